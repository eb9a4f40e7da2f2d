"""SCons builder of the cortex-m platform: system arm-none-eabi-gcc, bare metal, one linker script.

The target (CPU flags and memory map) comes from $EDGELEAK_TARGET, which edgeleak sets from a board's boards.yaml
entry (edgeleak.boards.target), or else from the board file's build.edgeleak_target (a real board). `upload` runs a
QEMU board under QEMU, or writes a real board's flash through its ST-LINK with st-flash.
"""

import json
import os
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform = env.PioPlatform()

toolchain_dir = platform.get_package_dir("toolchain-gccarmnoneeabi")
if toolchain_dir and os.path.isdir(os.path.join(toolchain_dir, "bin")):
    env.PrependENVPath("PATH", os.path.join(toolchain_dir, "bin"))

if os.environ.get("EDGELEAK_TARGET"):
    target = json.loads(os.environ["EDGELEAK_TARGET"])
else:
    target = board.get("build.edgeleak_target", None)
if not target:
    sys.stderr.write("edgeleak: env %s builds a board of boards.yaml: use `edgeleak build --board NAME`\n"
                     % env.subst("$PIOENV"))
    env.Exit(1)

machine_flags = list(target["machine_flags"])
memory_map = [
    "-Wl,--defsym=EL_%s=%d" % (name.upper(), int(target[name]))
    for name in ("flash_origin", "flash_length", "ram_origin", "ram_length")
]

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.rodata|\.ARM\.exidx)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.noinit|\.stack)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)

if target.get("board"):  # a board of boards.yaml: INFO reports its name
    env.Append(CPPDEFINES=[("EL_BOARD_NAME", env.StringifyMacro(target["board"]))])

env.Append(
    ASFLAGS=machine_flags,
    CCFLAGS=machine_flags + ["-Os", "-g", "-ffunction-sections", "-fdata-sections", "-ffreestanding"],
    CFLAGS=["-std=c99"],
    LINKFLAGS=machine_flags
    + memory_map
    + [
        "-nostartfiles",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        "-Wl,--print-memory-usage",
        "-Wl,-Map,${BUILD_DIR}/firmware.map",
    ],
    LIBS=["m"],
)

if not env.get("LDSCRIPT_PATH"):
    env.Replace(LDSCRIPT_PATH=board.get("build.ldscript", ""))

target_elf = env.BuildProgram()
target_bin = env.Command(
    os.path.join("$BUILD_DIR", "firmware.bin"), target_elf,
    env.VerboseAction("$OBJCOPY -O binary $SOURCE $TARGET", "Writing $TARGET"))
target_size = env.Alias("size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"))
AlwaysBuild(target_size)

if target.get("qemu_machine"):
    upload_cmd = ("qemu-system-arm -M %s -nographic -monitor none -semihosting-config "
                  "enable=on,target=native -serial stdio -kernel $SOURCE") % target["qemu_machine"]
    AlwaysBuild(env.Alias("upload", target_elf, env.VerboseAction(upload_cmd, "Running $SOURCE under QEMU")))
else:  # a real board through its ST-LINK: st-flash (Debian's stlink-tools), then a reset into the new image
    upload_cmd = "st-flash --reset write $SOURCE 0x%08x" % int(target["flash_origin"])
    AlwaysBuild(env.Alias("upload", target_bin, env.VerboseAction(upload_cmd, "Writing $SOURCE through the ST-LINK")))

Default([target_elf, target_bin])
