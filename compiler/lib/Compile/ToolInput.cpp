//===- ToolInput.cpp - Bounded, depth-checked input for the MLIR tools ----===//
//
// Part of Tessera. See ToolInput.h.
//
//===----------------------------------------------------------------------===//

#include "tessera/Compiler/ToolInput.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/thread.h"

#include <optional>

using namespace llvm;

Error tessera::compiler::writeToolOutput(StringRef path, StringRef text) {
  if (path == "-") {
    outs() << text;
    outs().flush();
    if (outs().has_error()) {
      std::error_code ec = outs().error();
      outs().clear_error();
      return createStringError(inconvertibleErrorCode(),
                               "standard output: write error: " + ec.message());
    }
    return Error::success();
  }
  try {
    arch::writeOutputFile(path.str(), text.str(), "output");
  } catch (const arch::ContractError &e) {
    return createStringError(inconvertibleErrorCode(), e.what());
  }
  return Error::success();
}

Expected<std::unique_ptr<MemoryBuffer>>
tessera::compiler::readToolInput(StringRef path, uint64_t maxBytes,
                                 StringRef what) {
  bool isStdin = path == "-";
  std::string bytes;
  try {
    bytes = arch::readInputFile(isStdin ? "/dev/stdin" : path.str(), maxBytes,
                                what.str());
  } catch (const arch::ContractError &e) {
    std::string msg = e.what();
    if (isStdin && StringRef(msg).starts_with("/dev/stdin"))
      msg = "<stdin>" + msg.substr(strlen("/dev/stdin"));
    return createStringError(inconvertibleErrorCode(), msg);
  }
  return MemoryBuffer::getMemBufferCopy(bytes, isStdin ? "<stdin>" : path);
}

Error tessera::compiler::checkMlirNesting(StringRef text, StringRef name,
                                          unsigned maxDepth) {
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    char next = i + 1 < e ? text[i + 1] : '\0';
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    } else if (c == '"') {
      // A string literal: skip to its closing quote (escapes included).
      for (++i; i < e && text[i] != '"'; ++i) {
        if (text[i] == '\\')
          ++i;
        else if (text[i] == '\n') {
          ++line;
          lineStart = i + 1;
        }
      }
    } else if (c == '/' && next == '/') {
      while (i < e && text[i] != '\n')
        ++i;
      --i; // Count the newline above.
    } else if (c == '{' || c == '(' || c == '[' || (c == '<' && next != '=')) {
      if (++depth > maxDepth)
        return createStringError(
            inconvertibleErrorCode(),
            "%s:%u:%zu: brackets nest deeper than %u levels, the limit for "
            "textual MLIR (docs/limits-and-errors.md)",
            name.str().c_str(), line, i - lineStart + 1, maxDepth);
    } else if (c == '}' || c == ')' || c == ']' ||
               (c == '>' && next != '=' && (i == 0 || text[i - 1] != '-'))) {
      if (depth > 0)
        --depth;
    }
  }
  return Error::success();
}

int tessera::compiler::runWithLargeStack(const std::function<int()> &body) {
  int result = 1;
  llvm::thread worker(std::optional<unsigned>(kToolStackBytes),
                      [&] { result = body(); });
  worker.join();
  return result;
}
