"""Pre-build script for every env: adds the generated model and the out-of-tree port sources.

- $EDGELEAK_MODEL_C names the generated model C file (el_model_artifact, el_model_arena, ...).
  Firmware builds require it; unit-test builds (`pio test`) do not use it.
- `custom_port_dir` (relative to this project) holds port sources kept outside src/
  (the host board lives in ../host).
- Test builds drop the application (app/) and every port's main.c: the test program
  in test/ brings its own main() and uses only the port and the protocol code.
"""

import os

Import("env")  # noqa: F821  (SCons injects Import)

is_test = "test" in env.GetBuildType()  # noqa: F821

if is_test:
    env.Append(SRC_FILTER=["-<app/>", "-<ports/*/main.c>"])  # noqa: F821

port_dir = env.GetProjectOption("custom_port_dir", "")  # noqa: F821
if port_dir:
    port_dir = os.path.normpath(os.path.join(env.subst("$PROJECT_DIR"), port_dir))  # noqa: F821
    env.BuildSources(  # noqa: F821
        os.path.join("$BUILD_DIR", "port"),
        port_dir,
        ["+<*.c>", "-<main.c>"] if is_test else ["+<*.c>"],
    )

model_c = os.environ.get("EDGELEAK_MODEL_C", "")
if not is_test:
    if not model_c:
        print("edgeleak: set EDGELEAK_MODEL_C to the generated model C file (see docs/model-format.md)")
        env.Exit(1)  # noqa: F821
    model_c = os.path.abspath(model_c)
    if not os.path.isfile(model_c):
        print("edgeleak: EDGELEAK_MODEL_C=%s does not exist" % model_c)
        env.Exit(1)  # noqa: F821
    env.BuildSources(  # noqa: F821
        os.path.join("$BUILD_DIR", "model"),
        os.path.dirname(model_c),
        ["-<*>", "+<%s>" % os.path.basename(model_c)],
    )

# The training loop's hot kernels (per parameter, per example) build at -O2, the rest of the image at the
# platform's -Os: a later -O flag wins on GCC's command line.
HOT_TRAIN = ("el_dense_forward_f32", "el_dense_backward_f32", "el_dense_grad_accumulate_f32", "el_dense_grad_start_f32",
             "el_train_round", "el_train_step_factored")


def _hot_o2(node):
    name = os.path.splitext(os.path.basename(node.get_path()))[0]
    if name in HOT_TRAIN:
        return env.Object(node, CCFLAGS=env["CCFLAGS"] + ["-O2", "-ffp-contract=fast"])  # noqa: F821
    return node


env.AddBuildMiddleware(_hot_o2, "*/train/*.c")  # noqa: F821

# The DSP kernels' per-output requantization and two-pixel core build at -O2 too: at -Os GCC spills their
# loop invariants to the stack inside the inner loops (requantization: 25 instructions per output instead of 20).
HOT_ENGINE = ("el_dsp_requant_s8", "el_dsp_pair_s8")


def _hot_engine_o2(node):
    name = os.path.splitext(os.path.basename(node.get_path()))[0]
    if name in HOT_ENGINE:
        return env.Object(node, CCFLAGS=env["CCFLAGS"] + ["-O2"])  # noqa: F821
    return node


env.AddBuildMiddleware(_hot_engine_o2, "*/engine/*.c")  # noqa: F821
