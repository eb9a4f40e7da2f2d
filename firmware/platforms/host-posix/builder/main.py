"""SCons builder for the host board: the firmware core as a POSIX program, host cc."""

from SCons.Script import Default, DefaultEnvironment

env = DefaultEnvironment()

env.Replace(
    AR="ar",
    CC="cc",
    CXX="c++",
    OBJCOPY="objcopy",
    RANLIB="ranlib",
    SIZETOOL="size",
    PROGNAME="program",
    PROGSUFFIX="",
)
env.Append(
    CCFLAGS=["-O2", "-g"],
    CFLAGS=["-std=c99"],
    LIBS=["m"],
)

Default([env.BuildProgram()])
