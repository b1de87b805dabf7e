//===- ToolInput.h - Bounded input for the MLIR tools -----------*- C++ -*-===//
//
// Part of Tessera. tessera-opt and tessera-translate read their input through
// readToolInput (the bounded reader of arch/FileIo.h, also for stdin), check
// textual MLIR's nesting depth before the recursive-descent parser sees it,
// and run on a thread with a large stack, so neither a never-ending input nor
// `module {` x 5000 can exhaust memory or the stack. The limits are in
// docs/limits-and-errors.md.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_TOOLINPUT_H
#define TESSERA_COMPILER_TOOLINPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <functional>
#include <memory>

namespace tessera::compiler {

/// Deepest bracket nesting ({, (, [, <) accepted in textual MLIR.
constexpr unsigned kMaxMlirNesting = 256;
/// Stack of the thread the MLIR tools run on.
constexpr unsigned kToolStackBytes = 256u << 20;

/// Reads `path` ("-" is stdin) as a whole, at most `maxBytes`, into a
/// null-terminated buffer named by the path. Errors name the path.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readToolInput(llvm::StringRef path, uint64_t maxBytes, llvm::StringRef what);

/// Fails with "name:line:col: ..." if `text` nests brackets deeper than
/// `maxDepth`. Strings and `//` comments are skipped; `->`, `<=` and `>=`
/// are not brackets.
llvm::Error checkMlirNesting(llvm::StringRef text, llvm::StringRef name,
                             unsigned maxDepth = kMaxMlirNesting);

/// Writes a tool's whole output to `path` ("-" is stdout, flushed and
/// checked; a file is replaced atomically by arch::writeOutputFile). Errors
/// name the path.
llvm::Error writeToolOutput(llvm::StringRef path, llvm::StringRef text);

/// Runs `body` on a thread with a kToolStackBytes stack and returns its
/// result.
int runWithLargeStack(const std::function<int()> &body);

} // namespace tessera::compiler

#endif // TESSERA_COMPILER_TOOLINPUT_H
