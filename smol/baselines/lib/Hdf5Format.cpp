//===- Hdf5Format.cpp - HDF5 baseline with a counting file driver ---------===//
//
// Part of Tessera. The log as an HDF5 file the way h5py users lay it out: one
// chunked dataset per dynamic field with the timestamp as first dimension
// (/data/<field>), the static data once (/static/<field>), the schema text as
// a root attribute. Camera datasets are chunked one frame per chunk; other
// fields in chunks of about 64 KiB of rows. Reads go through a virtual file
// driver ("tessera_counted") whose read callback is a CountedFile::pread, so
// every request HDF5's library makes (superblock, object headers, B-tree
// nodes, chunks) is counted exactly, with HDF5's own metadata accumulator and
// chunk cache at their defaults.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"
#include "Formats.h"

#include <hdf5.h>

#include <memory>

namespace tessera {
namespace baselines {

namespace {

//===----------------------------------------------------------------------===//
// The counting virtual file driver (read-only).
//===----------------------------------------------------------------------===//

struct CountedH5 {
  H5FD_t pub; // must be first: HDF5 casts between H5FD_t* and this
  CountedFile *file;
  haddr_t eoa;
  std::string error;
};

/// The driver's per-file-access-property-list info: which counter to use.
struct DriverInfo {
  IoCounter *counter;
};

std::string lastDriverError;

H5FD_t *driverOpen(const char *name, unsigned flags, hid_t fapl,
                   haddr_t maxaddr) {
  (void)maxaddr;
  if (flags & (H5F_ACC_RDWR | H5F_ACC_TRUNC | H5F_ACC_CREAT)) {
    lastDriverError = std::string(name) + ": counting driver is read-only";
    return nullptr;
  }
  const DriverInfo *info =
      static_cast<const DriverInfo *>(H5Pget_driver_info(fapl));
  if (!info || !info->counter) {
    lastDriverError = std::string(name) + ": no I/O counter given";
    return nullptr;
  }
  try {
    // Owned until HDF5 takes it: a file that cannot be opened throws from
    // CountedFile's constructor (LeakSanitizer found the lost CountedH5).
    auto f = std::make_unique<CountedH5>();
    f->file = new CountedFile(name, *info->counter);
    f->eoa = 0;
    return &f.release()->pub;
  } catch (const BaselineError &e) {
    lastDriverError = e.what();
    return nullptr;
  }
}

herr_t driverClose(H5FD_t *pub) {
  CountedH5 *f = reinterpret_cast<CountedH5 *>(pub);
  delete f->file;
  delete f;
  return 0;
}

int driverCmp(const H5FD_t *a, const H5FD_t *b) {
  const CountedH5 *x = reinterpret_cast<const CountedH5 *>(a);
  const CountedH5 *y = reinterpret_cast<const CountedH5 *>(b);
  int c = x->file->path().compare(y->file->path());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

herr_t driverQuery(const H5FD_t *, unsigned long *flags) {
  // As the default sec2 driver: metadata aggregation/accumulation, data
  // sieving and small-data aggregation.
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
           H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA;
  return 0;
}

haddr_t driverGetEoa(const H5FD_t *pub, H5FD_mem_t) {
  return reinterpret_cast<const CountedH5 *>(pub)->eoa;
}
herr_t driverSetEoa(H5FD_t *pub, H5FD_mem_t, haddr_t addr) {
  reinterpret_cast<CountedH5 *>(pub)->eoa = addr;
  return 0;
}
haddr_t driverGetEof(const H5FD_t *pub, H5FD_mem_t) {
  return reinterpret_cast<const CountedH5 *>(pub)->file->size();
}

herr_t driverRead(H5FD_t *pub, H5FD_mem_t, hid_t, haddr_t addr, size_t size,
                  void *buf) {
  CountedH5 *f = reinterpret_cast<CountedH5 *>(pub);
  try {
    size_t got = f->file->pread(buf, size, addr);
    // Like sec2: bytes past the end of file read as zeros.
    if (got < size)
      std::memset(static_cast<char *>(buf) + got, 0, size - got);
    return 0;
  } catch (const BaselineError &e) {
    lastDriverError = e.what();
    return -1;
  }
}

herr_t driverWrite(H5FD_t *, H5FD_mem_t, hid_t, haddr_t, size_t, const void *) {
  lastDriverError = "counting driver is read-only";
  return -1;
}

herr_t driverTruncate(H5FD_t *, hid_t, hbool_t) { return 0; }

hid_t countingDriver() {
  static hid_t id = [] {
    static H5FD_class_t cls;
    std::memset(&cls, 0, sizeof cls);
    cls.name = "tessera_counted";
    cls.maxaddr = (static_cast<haddr_t>(1) << 62);
    cls.fc_degree = H5F_CLOSE_WEAK;
    cls.fapl_size = sizeof(DriverInfo);
    cls.open = driverOpen;
    cls.close = driverClose;
    cls.cmp = driverCmp;
    cls.query = driverQuery;
    cls.get_eoa = driverGetEoa;
    cls.set_eoa = driverSetEoa;
    cls.get_eof = driverGetEof;
    cls.read = driverRead;
    cls.write = driverWrite;
    cls.truncate = driverTruncate;
    H5FD_mem_t map[] = H5FD_FLMAP_DICHOTOMY;
    std::memcpy(cls.fl_map, map, sizeof map);
    return H5FDregister(&cls);
  }();
  return id;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Closes an HDF5 handle with the right function on scope exit.
class H5Handle {
public:
  H5Handle() = default;
  H5Handle(hid_t id, herr_t (*closer)(hid_t)) : id(id), closer(closer) {}
  H5Handle(H5Handle &&o) noexcept : id(o.id), closer(o.closer) { o.id = -1; }
  H5Handle &operator=(H5Handle &&o) noexcept {
    reset();
    id = o.id;
    closer = o.closer;
    o.id = -1;
    return *this;
  }
  ~H5Handle() { reset(); }
  void reset() {
    if (id >= 0 && closer)
      closer(id);
    id = -1;
  }
  hid_t get() const { return id; }
  bool valid() const { return id >= 0; }

private:
  hid_t id = -1;
  herr_t (*closer)(hid_t) = nullptr;
};

hid_t memType(DType t) {
  switch (t) {
  case DType::U8:
    return H5T_NATIVE_UINT8;
  case DType::I32:
    return H5T_NATIVE_INT32;
  case DType::I64:
    return H5T_NATIVE_INT64;
  case DType::F32:
    return H5T_NATIVE_FLOAT;
  case DType::F64:
    return H5T_NATIVE_DOUBLE;
  }
  return -1;
}

hid_t fileType(DType t) {
  switch (t) {
  case DType::U8:
    return H5T_STD_U8LE;
  case DType::I32:
    return H5T_STD_I32LE;
  case DType::I64:
    return H5T_STD_I64LE;
  case DType::F32:
    return H5T_IEEE_F32LE;
  case DType::F64:
    return H5T_IEEE_F64LE;
  }
  return -1;
}

void quietHdf5() {
  static bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

BaselineError h5Error(const std::string &path, const std::string &what) {
  std::string msg = path + ": " + what;
  if (!lastDriverError.empty()) {
    msg += " (" + lastDriverError + ")";
    lastDriverError.clear();
  }
  return BaselineError(msg);
}

/// Rows per chunk for a field: one frame for cameras, else ~64 KiB of rows.
hsize_t chunkRows(const Field &f, uint64_t rows) {
  if (f.role == FieldRole::Camera)
    return 1;
  hsize_t r = std::max<hsize_t>(1, 65536 / std::max<uint64_t>(1, f.bytes()));
  return std::max<hsize_t>(1, std::min<hsize_t>(r, rows));
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

class Hdf5Baseline : public Baseline {
public:
  std::string name() const override { return "hdf5"; }
  std::string description() const override {
    return "HDF5, one chunked dataset per field (cameras one frame per "
           "chunk), static data once";
  }

  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    quietHdf5();
    makeDirectories(dir);
    std::string path = dir + "/log.h5";
    const Schema &schema = source.schema();
    H5Handle file(
        H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
        H5Fclose);
    if (!file.valid())
      throw h5Error(path, "cannot create HDF5 file");
    writeSchemaAttribute(file.get(), schema.serialize(), path);
    H5Handle data(
        H5Gcreate2(file.get(), "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Gclose);
    H5Handle stat(
        H5Gcreate2(file.get(), "static", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Gclose);
    Values staticValues = source.staticValues();
    for (size_t k = 0; k < schema.staticFields.size(); ++k) {
      const Field &f = schema.staticFields[k];
      std::vector<hsize_t> dims(f.shape.begin(), f.shape.end());
      H5Handle space(
          H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
          H5Sclose);
      if (dims.empty())
        space = H5Handle(H5Screate(H5S_SCALAR), H5Sclose);
      H5Handle ds(H5Dcreate2(stat.get(), f.name.c_str(), fileType(f.dtype),
                             space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  H5Dclose);
      if (!ds.valid() || H5Dwrite(ds.get(), memType(f.dtype), H5S_ALL, H5S_ALL,
                                  H5P_DEFAULT, staticValues[k].data()) < 0)
        throw h5Error(path, "cannot write static field " + f.name);
    }
    uint64_t rows = source.size();
    std::vector<H5Handle> sets;
    for (const Field &f : schema.fields) {
      std::vector<hsize_t> dims{rows};
      dims.insert(dims.end(), f.shape.begin(), f.shape.end());
      std::vector<hsize_t> chunk = dims;
      chunk[0] = chunkRows(f, rows);
      H5Handle space(
          H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
          H5Sclose);
      H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
      if (rows > 0)
        H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
      sets.emplace_back(H5Dcreate2(data.get(), f.name.c_str(),
                                   fileType(f.dtype), space.get(), H5P_DEFAULT,
                                   dcpl.get(), H5P_DEFAULT),
                        H5Dclose);
      if (!sets.back().valid())
        throw h5Error(path, "cannot create dataset " + f.name);
    }
    // Write in blocks of rows to keep H5Dwrite calls few.
    const uint64_t block = 256;
    std::vector<std::vector<uint8_t>> buffers(schema.fields.size());
    for (uint64_t r0 = 0; r0 < rows; r0 += block) {
      uint64_t n = std::min(block, rows - r0);
      for (auto &b : buffers)
        b.clear();
      for (uint64_t r = r0; r < r0 + n; ++r) {
        Values rec = source.record(r);
        for (size_t k = 0; k < rec.size(); ++k)
          buffers[k].insert(buffers[k].end(), rec[k].begin(), rec[k].end());
        if (progress)
          progress(r + 1, rows);
      }
      for (size_t k = 0; k < schema.fields.size(); ++k)
        writeRows(sets[k].get(), schema.fields[k], r0, n, buffers[k], path);
    }
  }

  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override;

private:
  static void writeSchemaAttribute(hid_t file, const std::string &text,
                                   const std::string &path) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), text.size() + 1); // with its terminating NUL
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle attr(H5Acreate2(file, "tessera_schema", type.get(), space.get(),
                             H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose);
    if (!attr.valid() || H5Awrite(attr.get(), type.get(), text.data()) < 0)
      throw h5Error(path, "cannot write the schema attribute");
  }

  static void writeRows(hid_t ds, const Field &f, uint64_t r0, uint64_t n,
                        const std::vector<uint8_t> &buf,
                        const std::string &path) {
    std::vector<hsize_t> start{r0}, count{n};
    for (uint32_t d : f.shape) {
      start.push_back(0);
      count.push_back(d);
    }
    H5Handle fspace(H5Dget_space(ds), H5Sclose);
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr,
                        count.data(), nullptr);
    H5Handle mspace(
        H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
        H5Sclose);
    if (H5Dwrite(ds, memType(f.dtype), mspace.get(), fspace.get(), H5P_DEFAULT,
                 buf.data()) < 0)
      throw h5Error(path, "cannot write rows of " + f.name);
  }
};

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

class Hdf5Reader : public Reader {
public:
  Hdf5Reader(const std::string &path, IoCounter &counter)
      : path(path), counter(counter) {}

  void open() override {
    quietHdf5();
    DriverInfo info{&counter};
    H5Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (H5Pset_driver(fapl.get(), countingDriver(), &info) < 0)
      throw h5Error(path, "cannot select the counting file driver");
    file =
        H5Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!file.valid())
      throw h5Error(path, "not a readable HDF5 file");
    schema = Schema::parse(readSchemaAttribute(), path);
    for (const Field &f : schema.fields) {
      sets.emplace_back(
          H5Dopen2(file.get(), ("data/" + f.name).c_str(), H5P_DEFAULT),
          H5Dclose);
      if (!sets.back().valid())
        throw h5Error(path, "missing dataset /data/" + f.name);
      H5Handle space(H5Dget_space(sets.back().get()), H5Sclose);
      int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(std::max(rank, 0));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      std::vector<hsize_t> expect(f.shape.begin(), f.shape.end());
      if (rank < 1 ||
          std::vector<hsize_t>(dims.begin() + 1, dims.end()) != expect)
        throw h5Error(path, "dataset /data/" + f.name +
                                " has the wrong shape for its schema");
      if (sets.size() == 1)
        rows = dims[0];
      else if (dims[0] != rows)
        throw h5Error(path, "dataset /data/" + f.name + " has " +
                                std::to_string(dims[0]) + " rows, expected " +
                                std::to_string(rows));
    }
    statics.clear();
    for (const Field &f : schema.staticFields) {
      H5Handle ds(
          H5Dopen2(file.get(), ("static/" + f.name).c_str(), H5P_DEFAULT),
          H5Dclose);
      statics.emplace_back(f.bytes());
      if (!ds.valid() || H5Dread(ds.get(), memType(f.dtype), H5S_ALL, H5S_ALL,
                                 H5P_DEFAULT, statics.back().data()) < 0)
        throw h5Error(path, "cannot read /static/" + f.name);
    }
  }

  Values staticValues() override { return statics; }
  uint64_t size() const override { return rows; }

  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    if (rowStatic)
      rowStatic->clear();
    if (index >= rows)
      throw BaselineError(path + ": record " + std::to_string(index) +
                          " out of range (" + std::to_string(rows) +
                          " records)");
    Values out(schema.fields.size());
    for (size_t k = 0; k < schema.fields.size(); ++k) {
      const Field &f = schema.fields[k];
      if (labelsOnly && f.role != FieldRole::Label)
        continue;
      out[k].resize(f.bytes());
      std::vector<hsize_t> start{index}, count{1};
      for (uint32_t d : f.shape) {
        start.push_back(0);
        count.push_back(d);
      }
      H5Handle fspace(H5Dget_space(sets[k].get()), H5Sclose);
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr,
                          count.data(), nullptr);
      H5Handle mspace(H5Screate_simple(static_cast<int>(count.size()),
                                       count.data(), nullptr),
                      H5Sclose);
      if (H5Dread(sets[k].get(), memType(f.dtype), mspace.get(), fspace.get(),
                  H5P_DEFAULT, out[k].data()) < 0)
        throw h5Error(path, "cannot read record " + std::to_string(index) +
                                " of /data/" + f.name);
    }
    return out;
  }

private:
  std::string readSchemaAttribute() {
    H5Handle attr(H5Aopen(file.get(), "tessera_schema", H5P_DEFAULT), H5Aclose);
    if (!attr.valid())
      throw h5Error(path, "missing the tessera_schema attribute");
    H5Handle type(H5Aget_type(attr.get()), H5Tclose);
    size_t n = H5Tget_size(type.get());
    if (H5Tget_class(type.get()) != H5T_STRING || n == 0 || n > (1u << 20))
      throw h5Error(path, "tessera_schema attribute is not a string");
    std::string text(n, '\0');
    H5Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), n);
    if (H5Aread(attr.get(), mtype.get(), text.data()) < 0)
      throw h5Error(path, "cannot read the tessera_schema attribute");
    text.resize(std::strlen(text.c_str()));
    return text;
  }

  std::string path;
  IoCounter &counter;
  H5Handle file;
  Schema schema;
  std::vector<H5Handle> sets;
  Values statics;
  uint64_t rows = 0;
};

std::unique_ptr<Reader> Hdf5Baseline::reader(const std::string &dir,
                                             IoCounter &counter) const {
  return std::make_unique<Hdf5Reader>(dir + "/log.h5", counter);
}

} // namespace

std::unique_ptr<Baseline> makeHdf5Baseline() {
  return std::make_unique<Hdf5Baseline>();
}

} // namespace baselines
} // namespace tessera
