//===- Mp4Format.cpp - H.264 in MP4 for the cameras (FFmpeg, libx264) -----===//
//
// Part of Tessera. The camera streams as the automotive world usually keeps
// them: one H.264 video per camera (libx264 through libavcodec, yuv420p, no
// B-frames, fixed GOP of 1, 30 or 250 frames, "+faststart" so the moov index
// is at the front), muxed into MP4 by libavformat. The non-camera fields go to
// a row-log sidecar (static data once, in its header). Reading sample i seeks
// each camera's stream to the keyframe at or before frame i and decodes
// forward to frame i, as a random-access video reader must. Every byte FFmpeg
// reads comes through a custom AVIOContext whose read callback is a
// CountedFile::pread (FFmpeg's default 32 KiB buffer), so the I/O is exact.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"
#include "Formats.h"
#include "RowLog.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace tessera {
namespace baselines {

namespace {

constexpr int kAvioBufferBytes = 32768; // FFmpeg's IO_BUFFER_SIZE

std::string avError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

std::string cameraFile(const Field &f) { return "cam_" + f.name + ".mp4"; }

void checkCamera(const Field &f) {
  if (f.shape.size() != 3 || f.shape[2] != 3 || f.dtype != DType::U8 ||
      f.shape[0] % 2 || f.shape[1] % 2)
    throw BaselineError("camera field " + f.name +
                        ": expected u8 HxWx3 with even H and W");
}

AVRational frameRate(const ContentSource &source) {
  return av_d2q(source.framesPerSecond(), 100000);
}

/// One camera's encoder and muxer.
class CameraEncoder {
public:
  CameraEncoder(const std::string &path, const Field &field, AVRational fps,
                unsigned gop)
      : path(path), width(static_cast<int>(field.shape[1])),
        height(static_cast<int>(field.shape[0])) {
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
      throw BaselineError(path + ": FFmpeg has no libx264 encoder");
    ctx = avcodec_alloc_context3(codec);
    ctx->width = width;
    ctx->height = height;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = av_inv_q(fps);
    ctx->framerate = fps;
    ctx->gop_size = static_cast<int>(gop);
    ctx->keyint_min = static_cast<int>(gop);
    ctx->max_b_frames = 0;
    ctx->thread_count = 1;
    av_opt_set(ctx->priv_data, "preset", "veryfast", 0);
    av_opt_set(ctx->priv_data, "crf", "20", 0);
    std::string params = "scenecut=0:keyint=" + std::to_string(gop) +
                         ":min-keyint=" + std::to_string(gop);
    av_opt_set(ctx->priv_data, "x264-params", params.c_str(), 0);
    int err =
        avformat_alloc_output_context2(&fmt, nullptr, "mp4", path.c_str());
    if (err < 0)
      throw BaselineError(path + ": cannot create MP4 muxer: " + avError(err));
    if (fmt->oformat->flags & AVFMT_GLOBALHEADER)
      ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((err = avcodec_open2(ctx, codec, nullptr)) < 0)
      throw BaselineError(path + ": cannot open libx264: " + avError(err));
    stream = avformat_new_stream(fmt, nullptr);
    avcodec_parameters_from_context(stream->codecpar, ctx);
    stream->time_base = ctx->time_base;
    if ((err = avio_open(&fmt->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0)
      throw BaselineError(path + ": cannot create: " + avError(err));
    AVDictionary *opts = nullptr;
    av_dict_set(&opts, "movflags", "+faststart", 0);
    err = avformat_write_header(fmt, &opts);
    av_dict_free(&opts);
    if (err < 0)
      throw BaselineError(path + ": cannot write MP4 header: " + avError(err));
    frame = av_frame_alloc();
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width;
    frame->height = height;
    av_frame_get_buffer(frame, 0);
    packet = av_packet_alloc();
    sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height,
                         AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr,
                         nullptr);
  }
  ~CameraEncoder() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    if (fmt) {
      if (fmt->pb)
        avio_closep(&fmt->pb);
      avformat_free_context(fmt);
    }
  }

  void add(const std::vector<uint8_t> &rgb, int64_t pts) {
    av_frame_make_writable(frame);
    const uint8_t *src[1] = {rgb.data()};
    int srcStride[1] = {3 * width};
    sws_scale(sws, src, srcStride, 0, height, frame->data, frame->linesize);
    frame->pts = pts;
    send(frame);
  }
  void finish() {
    send(nullptr);
    int err = av_write_trailer(fmt);
    if (err < 0)
      throw BaselineError(path + ": cannot finish MP4: " + avError(err));
  }

private:
  void send(AVFrame *f) {
    int err = avcodec_send_frame(ctx, f);
    if (err < 0)
      throw BaselineError(path + ": encoder: " + avError(err));
    while ((err = avcodec_receive_packet(ctx, packet)) >= 0) {
      av_packet_rescale_ts(packet, ctx->time_base, stream->time_base);
      packet->stream_index = stream->index;
      if ((err = av_interleaved_write_frame(fmt, packet)) < 0)
        throw BaselineError(path + ": cannot write a packet: " + avError(err));
    }
    if (err != AVERROR(EAGAIN) && err != AVERROR_EOF)
      throw BaselineError(path + ": encoder: " + avError(err));
  }

  std::string path;
  int width, height;
  AVCodecContext *ctx = nullptr;
  AVFormatContext *fmt = nullptr;
  AVStream *stream = nullptr;
  AVFrame *frame = nullptr;
  AVPacket *packet = nullptr;
  SwsContext *sws = nullptr;
};

/// One camera's demuxer and decoder over counted I/O.
class CameraDecoder {
public:
  CameraDecoder(const std::string &path, const Field &field, IoCounter &counter)
      : file(path, counter), width(static_cast<int>(field.shape[1])),
        height(static_cast<int>(field.shape[0])) {}
  ~CameraDecoder() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&dec);
    if (fmt)
      avformat_close_input(&fmt);
    if (avio) {
      av_freep(&avio->buffer);
      avio_context_free(&avio);
    }
  }

  void open() {
    uint8_t *buffer = static_cast<uint8_t *>(av_malloc(kAvioBufferBytes));
    avio = avio_alloc_context(buffer, kAvioBufferBytes, 0, this, readPacket,
                              nullptr, seek);
    fmt = avformat_alloc_context();
    fmt->pb = avio;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    int err = avformat_open_input(&fmt, nullptr, nullptr, nullptr);
    if (err < 0) {
      fmt = nullptr; // freed by avformat_open_input on failure
      throw fail("not a readable MP4 (" + avError(err) + ")");
    }
    if ((err = avformat_find_stream_info(fmt, nullptr)) < 0)
      throw fail("cannot read stream info (" + avError(err) + ")");
    if (fmt->nb_streams != 1 ||
        fmt->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
      throw fail("expected exactly one video stream");
    stream = fmt->streams[0];
    if (stream->codecpar->width != width || stream->codecpar->height != height)
      throw fail("video is " + std::to_string(stream->codecpar->width) + "x" +
                 std::to_string(stream->codecpar->height) + ", expected " +
                 std::to_string(width) + "x" + std::to_string(height));
    const AVCodec *codec = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!codec)
      throw fail("no decoder for its codec");
    dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, stream->codecpar);
    dec->thread_count = 1;
    if ((err = avcodec_open2(dec, codec, nullptr)) < 0)
      throw fail("cannot open the decoder (" + avError(err) + ")");
    frame = av_frame_alloc();
    packet = av_packet_alloc();
    frames = stream->nb_frames;
  }

  int64_t frameCount() const { return frames; }

  /// Decodes frame `index` (in frames since the start) into RGB.
  std::vector<uint8_t> decode(int64_t index, AVRational fps) {
    int64_t target = av_rescale_q(index, av_inv_q(fps), stream->time_base);
    int err = av_seek_frame(fmt, stream->index, target, AVSEEK_FLAG_BACKWARD);
    if (err < 0)
      throw fail("cannot seek to frame " + std::to_string(index) + " (" +
                 avError(err) + ")");
    avcodec_flush_buffers(dec);
    bool flushing = false;
    for (;;) {
      err = avcodec_receive_frame(dec, frame);
      if (err >= 0) {
        int64_t pts = frame->best_effort_timestamp;
        if (pts >= target)
          return toRgb(index, pts == target);
        continue;
      }
      if (err == AVERROR_EOF)
        throw fail("frame " + std::to_string(index) + " not in the stream");
      if (err != AVERROR(EAGAIN))
        throw fail("decoder: " + avError(err));
      if (flushing)
        throw fail("frame " + std::to_string(index) + " not in the stream");
      err = av_read_frame(fmt, packet);
      if (err == AVERROR_EOF) {
        avcodec_send_packet(dec, nullptr);
        flushing = true;
        continue;
      }
      if (err < 0)
        throw fail("cannot read a packet (" + avError(err) + ")");
      err = avcodec_send_packet(dec, packet);
      av_packet_unref(packet);
      if (err < 0 && err != AVERROR(EAGAIN))
        throw fail("decoder: " + avError(err));
    }
  }

private:
  std::vector<uint8_t> toRgb(int64_t index, bool exact) {
    if (!exact)
      throw fail("frame " + std::to_string(index) + " is missing");
    if (frame->width != width || frame->height != height)
      throw fail("decoded frame has the wrong size");
    sws = sws_getCachedContext(
        sws, width, height, static_cast<AVPixelFormat>(frame->format), width,
        height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
    std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
    uint8_t *dst[1] = {rgb.data()};
    int dstStride[1] = {3 * width};
    sws_scale(sws, frame->data, frame->linesize, 0, height, dst, dstStride);
    return rgb;
  }

  BaselineError fail(const std::string &msg) const {
    return BaselineError(file.path() + ": " + msg);
  }

  static int readPacket(void *opaque, uint8_t *buf, int size) {
    CameraDecoder *self = static_cast<CameraDecoder *>(opaque);
    try {
      size_t got = self->file.pread(buf, static_cast<size_t>(size), self->pos);
      self->pos += got;
      return got ? static_cast<int>(got) : AVERROR_EOF;
    } catch (const BaselineError &) {
      return AVERROR(EIO);
    }
  }
  static int64_t seek(void *opaque, int64_t offset, int whence) {
    CameraDecoder *self = static_cast<CameraDecoder *>(opaque);
    int64_t size = static_cast<int64_t>(self->file.size());
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      return size;
    case SEEK_SET:
      self->pos = static_cast<uint64_t>(offset);
      break;
    case SEEK_CUR:
      self->pos =
          static_cast<uint64_t>(static_cast<int64_t>(self->pos) + offset);
      break;
    case SEEK_END:
      self->pos = static_cast<uint64_t>(size + offset);
      break;
    default:
      return -1;
    }
    return static_cast<int64_t>(self->pos);
  }

  CountedFile file;
  int width, height;
  uint64_t pos = 0;
  AVIOContext *avio = nullptr;
  AVFormatContext *fmt = nullptr;
  AVStream *stream = nullptr;
  AVCodecContext *dec = nullptr;
  AVFrame *frame = nullptr;
  AVPacket *packet = nullptr;
  SwsContext *sws = nullptr;
  int64_t frames = 0;
};

/// The sidecar schema: every non-camera field, the static fields.
Schema sidecarSchema(const Schema &s, std::vector<size_t> &map) {
  Schema side;
  side.staticFields = s.staticFields;
  for (size_t k = 0; k < s.fields.size(); ++k)
    if (s.fields[k].role != FieldRole::Camera) {
      side.fields.push_back(s.fields[k]);
      map.push_back(k);
    }
  return side;
}

class Mp4Reader : public Reader {
public:
  Mp4Reader(const std::string &dir, IoCounter &counter)
      : dir(dir), counter(counter), sidecar(dir + "/sidecar.rows", counter) {}

  void open() override {
    CountedFile schemaFile(dir + "/schema.txt", counter);
    std::vector<uint8_t> text = schemaFile.readExact(schemaFile.size(), 0);
    // schema.txt carries the full schema and the frame rate on its last line.
    std::string all(text.begin(), text.end());
    size_t cut = all.rfind("fps ");
    if (cut == std::string::npos)
      throw BaselineError(schemaFile.path() + ": missing the 'fps' line");
    fps = av_d2q(std::atof(all.c_str() + cut + 4), 100000);
    if (fps.num <= 0 || fps.den <= 0)
      throw BaselineError(schemaFile.path() + ": bad 'fps' line");
    schema = Schema::parse(all.substr(0, cut), schemaFile.path());
    sidecar.open();
    std::vector<size_t> map;
    sidecarSchema(schema, map);
    sideMap = map;
    cameras.clear();
    cameraIndex.clear();
    for (size_t k = 0; k < schema.fields.size(); ++k)
      if (schema.fields[k].role == FieldRole::Camera) {
        checkCamera(schema.fields[k]);
        cameras.push_back(std::make_unique<CameraDecoder>(
            dir + "/" + cameraFile(schema.fields[k]), schema.fields[k],
            counter));
        cameras.back()->open();
        cameraIndex.push_back(k);
      }
  }
  Values staticValues() override { return sidecar.staticValues(); }
  uint64_t size() const override { return sidecar.rows(); }

  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    if (rowStatic)
      rowStatic->clear();
    Values side =
        labelsOnly ? sidecar.readLabels(index) : sidecar.read(index, nullptr);
    Values out(schema.fields.size());
    for (size_t j = 0; j < sideMap.size(); ++j)
      out[sideMap[j]] = std::move(side[j]);
    if (labelsOnly)
      return out;
    for (size_t c = 0; c < cameras.size(); ++c)
      out[cameraIndex[c]] =
          cameras[c]->decode(static_cast<int64_t>(index), fps);
    return out;
  }

private:
  std::string dir;
  IoCounter &counter;
  RowLogFile sidecar;
  Schema schema;
  AVRational fps{36, 1};
  std::vector<size_t> sideMap, cameraIndex;
  std::vector<std::unique_ptr<CameraDecoder>> cameras;
};

class Mp4Baseline : public Baseline {
public:
  explicit Mp4Baseline(unsigned gop) : gop(gop) {}
  std::string name() const override { return "mp4-gop" + std::to_string(gop); }
  std::string description() const override {
    return "H.264 (libx264 CRF 20, GOP " + std::to_string(gop) +
           ", no B-frames) in MP4 per camera + row-log sidecar for the "
           "other fields, static data once";
  }
  bool lossy() const override { return true; }

  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    av_log_set_level(AV_LOG_ERROR);
    const Schema &schema = source.schema();
    char fpsLine[64];
    std::snprintf(fpsLine, sizeof fpsLine, "fps %.17g\n",
                  source.framesPerSecond());
    std::string text = schema.serialize() + fpsLine;
    writeWholeFile(dir + "/schema.txt", text.data(), text.size());
    std::vector<size_t> map;
    Schema side = sidecarSchema(schema, map);
    writeRowLog(source, side, map, /*staticPerRow=*/false,
                dir + "/sidecar.rows", nullptr);
    std::vector<std::unique_ptr<CameraEncoder>> encoders;
    std::vector<size_t> cams;
    for (size_t k = 0; k < schema.fields.size(); ++k)
      if (schema.fields[k].role == FieldRole::Camera) {
        checkCamera(schema.fields[k]);
        encoders.push_back(std::make_unique<CameraEncoder>(
            dir + "/" + cameraFile(schema.fields[k]), schema.fields[k],
            frameRate(source), gop));
        cams.push_back(k);
      }
    for (uint64_t r = 0; r < source.size(); ++r) {
      Values rec = source.record(r);
      for (size_t c = 0; c < cams.size(); ++c)
        encoders[c]->add(rec[cams[c]], static_cast<int64_t>(r));
      if (progress)
        progress(r + 1, source.size());
    }
    for (auto &e : encoders)
      e->finish();
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    // Damaged input is reported by the reader's own one-line errors.
    av_log_set_level(AV_LOG_QUIET);
    return std::make_unique<Mp4Reader>(dir, counter);
  }

private:
  unsigned gop;
};

} // namespace

std::unique_ptr<Baseline> makeMp4Baseline(unsigned gop) {
  return std::make_unique<Mp4Baseline>(gop);
}

} // namespace baselines
} // namespace tessera
