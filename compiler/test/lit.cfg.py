# lit configuration for the Tessera compiler's FileCheck tests.
#
# Runs from the build tree (lit.site.cfg.py, written by CMake, sets the
# directories and loads this file). Tools: tessera-translate / tessera-opt
# from the build's bin dir, FileCheck and not from LLVM 19.
import os

import lit.formats

config.name = "Tessera compiler"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tessera_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.tessera_tools_dir, config.llvm_tools_dir,
     config.environment.get("PATH", os.environ.get("PATH", ""))])

# The sanitizer build (scripts/sanitize.sh) configures its runtimes through
# the environment; lit passes on only what it is told to.
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# protoc turning a textproto fixture into an .onnx file.
config.substitutions.append(
    ("%protoc-onnx",
     "%s --encode=onnx.ModelProto -I%s onnx/onnx.proto"
     % (config.protoc, config.onnx_include_dir)))
config.substitutions.append(("%models", config.tessera_models_dir))
