"""SCons builder for the QEMU MPS2 boards: system arm-none-eabi-gcc, bare metal, semihosting exit."""

import os

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform = env.PioPlatform()

toolchain_dir = platform.get_package_dir("toolchain-gccarmnoneeabi")
if toolchain_dir and os.path.isdir(os.path.join(toolchain_dir, "bin")):
    env.PrependENVPath("PATH", os.path.join(toolchain_dir, "bin"))

cpu = board.get("build.cpu")
if board.get("build.fpu", "no") == "yes":
    float_flags = ["-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
else:
    float_flags = ["-mfloat-abi=soft"]
machine_flags = ["-mcpu=%s" % cpu, "-mthumb"] + float_flags

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

env.Append(
    ASFLAGS=machine_flags,
    CCFLAGS=machine_flags
    + ["-Os", "-g", "-ffunction-sections", "-fdata-sections", "-ffreestanding"],
    CFLAGS=["-std=c99"],
    LINKFLAGS=machine_flags
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
target_size = env.Alias(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")
)
AlwaysBuild(target_size)

# QEMU boards have nothing to flash: `pio run -t upload` runs the image under QEMU,
# with the UART on this terminal and semihosting for the exit code.
qemu_cmd = (
    "qemu-system-arm -M %s -nographic -monitor none -semihosting-config "
    "enable=on,target=native -serial stdio -kernel $SOURCE"
) % board.get("build.qemu_machine")
AlwaysBuild(env.Alias("upload", target_elf, env.VerboseAction(qemu_cmd, "Running $SOURCE under QEMU")))

Default([target_elf])
