#!/usr/bin/env python3
"""Generates the emulator's wrapper for one kernels/<name>.cu (stdlib only, run at build time).

The wrapper #includes the .cu inside a namespace of its own (so __device__ helpers of different
files never collide in the one shared library), defines the file's `extern __shared__` arrays
(sized for the largest dynamic shared memory a launch may ask for) and, per
`extern "C" __global__ void NAME(params)`, a trampoline taking `void** args` exactly like
cuLaunchKernel's kernelParams, registered by name with its parameter kinds (so a launch with the
wrong argument list is refused instead of reading garbage).

Static `__shared__` arrays become `thread_local` (kernels/emu/cuda_emu.h), so on the emulator they
would keep their values from one block to the next, where a GPU leaves them undefined. The
wrapper therefore includes an instrumented copy of the .cu (and of the local headers it
includes), written beside it, in which every block-scope `__shared__` declaration is followed on
the same line by CUEMU_SHARED_DECL(name): the first thread of a block that reaches it fills the
array with NaN bytes in the shuffled mode, so a read of a location nobody wrote shows up. A
`#line` directive keeps compiler messages and assert() locations on the original file.

usage: gen_trampolines.py IN.cu OUT.cpp OUT.kernels
       gen_trampolines.py --instrument IN.cuh OUT.cuh      (a local header, instrumented alone)
       gen_trampolines.py --java OUT.java GEOMETRY.h A.cu B.cu ...   (the typed Java launch facade)
"""
import os
import re
import sys

I32 = {"int", "unsigned", "unsigned int", "signed", "signed int", "int32_t", "uint32_t"}
I64 = {"long long", "long long int", "unsigned long long", "unsigned long long int", "int64_t",
       "uint64_t", "size_t", "long", "long int", "unsigned long", "ptrdiff_t"}
F32 = {"float"}


def strip_comments(src):
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            out.append(" ")
            i = n if j < 0 else j + 2
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def blank_comments(src):
    """src with comments replaced by spaces (newlines kept): positions match the original."""
    out, i, n = list(src), 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif src[i] in "\"'":
            c, j = src[i], i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return "".join(out)


def in_macro(text, pos):
    """Whether pos lies in a #define (its logical line, joined by backslash-newlines)."""
    start = text.rfind("\n", 0, pos) + 1
    while start > 1 and text[start - 2] == "\\":
        start = text.rfind("\n", 0, start - 1) + 1
    return re.match(r"\s*#\s*define\b", text[start:pos]) is not None


def instrument_shared(src, path):
    """Inserts CUEMU_SHARED_DECL(name) after every block-scope static __shared__ declaration."""
    text = blank_comments(src)
    inserts = []
    for m in re.finditer(r"\b__shared__\b", text):
        if re.search(r"\bextern\s*$", text[max(0, m.start() - 40):m.start()]):
            continue  # dynamic shared memory: the wrapper defines and poisons it
        # brace depth at the declaration (0: file scope, where no statement may follow), unless
        # it sits in a #define (a macro body is expanded inside the kernels that use it)
        if not in_macro(text, m.start()) and text.count("{", 0, m.start()) - text.count("}", 0, m.start()) <= 0:
            sys.stderr.write(f"{path}: warning: file-scope __shared__ array is not poisoned per block "
                             "(declare it inside the kernel)\n")
            continue
        end = text.find(";", m.end())
        if end < 0:
            raise SystemExit(f"{path}: __shared__ declaration without ';'")
        decl = text[m.end():end]
        names = []
        depth, cur = 0, ""
        for ch in decl + ",":
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            if ch == "," and depth == 0:
                d = cur.split("=")[0]
                d = d[:d.index("[")] if "[" in d else d
                nm = re.search(r"(\w+)\s*$", d)
                if nm:
                    names.append(nm.group(1))
                cur = ""
            else:
                cur += ch
        if names:
            inserts.append((end + 1, "".join(f" CUEMU_SHARED_DECL({n});" for n in names)))
    out, last = [], 0
    for pos, ins in inserts:
        out.append(src[last:pos])
        out.append(ins)
        last = pos
    out.append(src[last:])
    return "".join(out)


def instrumented_copy(src_path, out_path):
    src = open(src_path, encoding="utf-8").read()
    rel = os.path.join("kernels", os.path.basename(src_path))
    write(out_path, f'#line 1 "{rel}"\n' + instrument_shared(src, src_path))


def matching_paren(text, open_idx):
    depth = 0
    for k in range(open_idx, len(text)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    raise SystemExit("unbalanced parentheses")


def split_params(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    parts = [" ".join(p.split()) for p in parts]
    return [] if parts == [""] or parts == ["void"] else parts


def kind_of(ptype, where):
    if "*" in ptype:
        return "P"
    base = re.sub(r"\b(const|volatile|__restrict__|__restrict|restrict)\b", " ", ptype)
    base = " ".join(base.replace("std::", "").split())
    if base in I32:
        return "I"
    if base in I64:
        return "L"
    if base in F32:
        return "F"
    raise SystemExit(f"{where}: unsupported kernel parameter type '{ptype}' "
                     "(use pointers, int, long long or float)")


def parse(path):
    text = blank_comments(open(path, encoding="utf-8").read())
    kernels, seen = [], set()
    for m in re.finditer(r"\b__global__\b", text):
        start = max(text.rfind(c, 0, m.start()) for c in ";}{") + 1
        prefix = text[start:m.start()]
        head = re.match(r"\s*(?:__launch_bounds__\s*\(([^()]*)\)\s*)?void\s+"
                        r"(?:__launch_bounds__\s*\(([^()]*)\)\s*)?(\w+)\s*\(", text[m.end():])
        if not head:
            continue
        name = head.group(3)
        # __launch_bounds__(maxThreadsPerBlock[, minBlocks...]): a GPU refuses a larger block, so the emulator does too
        bounds = head.group(1) or head.group(2)
        max_threads = split_params(bounds)[0] if bounds else "0"
        if not re.search(r'extern\s+"C"', prefix):
            sys.stderr.write(f"{path}: warning: __global__ {name} is not extern \"C\": "
                             "it cannot be launched by name (skipped)\n")
            continue
        open_idx = m.end() + head.end() - 1
        close_idx = matching_paren(text, open_idx)
        after = text[close_idx + 1:].lstrip()
        if not after.startswith("{") or name in seen:
            continue  # a declaration, or a repeat
        seen.add(name)
        line = text.count("\n", 0, m.start()) + 1
        params = []
        for p in split_params(text[open_idx + 1:close_idx]):
            pm = re.match(r"(.*?)(\w+)\s*$", p)
            if not pm or not pm.group(1).strip():
                raise SystemExit(f"{path}: kernel {name}: cannot parse parameter '{p}'")
            ptype = pm.group(1).strip()
            params.append((ptype, pm.group(2), kind_of(ptype, f"{path}: kernel {name}")))
        kernels.append((name, params, line, max_threads))
    smem = {}
    for m in re.finditer(r"extern\s+__shared__\s+((?:[\w:]+(?:\s*\([^()]*\))?\s+)+?)(\w+)\s*\[\s*\]", text):
        ctype = re.sub(r"__align__\s*\([^()]*\)", " ", m.group(1))
        smem[m.group(2)] = " ".join(ctype.split())
    return kernels, smem


def generate(cu, kernels, smem):
    base = os.path.splitext(os.path.basename(cu))[0]
    ns = "cuemu_file_" + re.sub(r"\W", "_", base)
    o = [f"// Generated by kernels/emu/gen_trampolines.py from kernels/{base}.cu: do not edit.",
         '#include "emu_runtime.h"', f"namespace {ns} {{", f'#include "{base}.cu"', "}",
         f"namespace {ns} {{"]
    for name, ctype in sorted(smem.items()):
        o.append(f"alignas(256) thread_local {ctype} {name}"
                 f"[::cuemu::kMaxDynamicShared / sizeof({ctype})];")
    if smem:
        o.append("static void cuemu_poison(std::size_t n) {")
        o += [f"    std::memset((void*){name}, 0xff, n);" for name in sorted(smem)]
        o.append("}")
    for name, params, _, max_threads in kernels:
        call = ", ".join(f"*({t}*)a[{i}]" for i, (t, _, _) in enumerate(params))
        o.append(f"static void cuemu_t_{name}(void** a) {{ (void)a; {name}({call}); }}")
        decl = ", ".join(f"{t} {n}" for t, n, _ in params).replace('"', "")
        kinds = "".join(k for _, _, k in params)
        poison = "&cuemu_poison" if smem else "nullptr"
        o.append(f'static const ::cuemu::KernelInfo cuemu_k_{name} = {{"{name}", &cuemu_t_{name}, '
                 f'{len(params)}, "{kinds}", "{decl}", "{base}.cu", {poison}, (int)({max_threads})}};')
    if kernels:
        o.append("static const ::cuemu::KernelInfo* const cuemu_all[] = {"
                 + ", ".join(f"&cuemu_k_{n}" for n, _, _, _ in kernels) + "};")
        o.append(f"static ::cuemu::Registrar cuemu_reg(cuemu_all, {len(kernels)});")
    o.append("}")
    return "\n".join(o) + "\n"


JAVA_KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue default do double else
enum extends final finally float for goto if implements import instanceof int interface long native new package private
protected public return short static strictfp super switch synchronized this throw throws transient try void volatile
while true false null var record yield launch""".split())
JAVA_TYPE = {"P": "long", "I": "int", "L": "long", "F": "float"}
ARG_CALL = {"P": "ptr", "I": "i32", "L": "i64", "F": "f32"}


def parse_geometry(path):
    """[(name, value, comment, line)] from `#define NAME expr  // comment` lines; a comment block
    above a group of defines (up to a blank line) applies to each of them."""
    out, env, block = [], {}, []
    for i, raw in enumerate(open(path, encoding="utf-8").read().splitlines(), 1):
        line = raw.strip()
        if not line:
            block = []
            continue
        if line.startswith("//"):
            block.append(line[2:].strip())
            continue
        code, _, trailing = line.partition("//")
        m = re.match(r"#define\s+(\w+)\s+(.+)$", code.strip())
        if not m:
            continue
        name, expr = m.group(1), m.group(2).strip()
        if not re.fullmatch(r"[\w\s()+\-*/]+", expr):
            raise SystemExit(f"{path}:{i}: {name}: only integer expressions of earlier names")
        py = re.sub(r"\b([A-Za-z_]\w*)\b", lambda t: f"env[{t.group(1)!r}]", expr).replace("/", "//")
        try:
            v = int(eval(py, {"env": env}))
        except KeyError as e:
            raise SystemExit(f"{path}:{i}: {name} uses {e} before it is defined")
        env[name] = v
        out.append((name, v, " ".join(block + ([trailing.strip()] if trailing.strip() else [])), i))
    return out


def camel(name):
    return "".join(w[:1].upper() + w[1:] for w in name.split("_") if w)


def java_name(n):
    return n + "_" if n in JAVA_KEYWORDS else n


def generate_java(geometry, files):
    """Kernels.java: geometry constants, kernel ids and one typed launch per kernel."""
    kernels = []  # (name, params, file, line)
    for cu in files:
        ks, _ = parse(cu)
        kernels += [(n, ps, os.path.basename(cu), ln) for n, ps, ln, _ in ks]
    kernels.sort(key=lambda k: k[0])
    # kernels with the same parameter list (types and names) share one builder, so a launcher can
    # choose among variants (e.g. gemm_forward_bm128 / _bm64 / _bm32 / _bm128_tf32) in one expression
    groups = {}
    for n, ps, f, ln in kernels:
        key = tuple((k, java_name(pn)) for _, pn, k in ps)
        groups.setdefault(key, []).append(n)
    gname = {key: camel(min(names, key=len)) for key, names in groups.items()}
    used = {}
    for key, g in list(gname.items()):
        if g in used:
            gname[key] = g + str(len([1 for v in gname.values() if v.startswith(g)]))
        used[gname[key]] = key
    # precision variants K_tf32 / K_bf16 must have K's exact parameters
    by = {n: (tuple((k, pn) for _, pn, k in ps), f, ln) for n, ps, f, ln in kernels}
    for n, (sig, f, ln) in by.items():
        for suf in ("_tf32", "_bf16"):
            if n.endswith(suf) and n[:-len(suf)] in by and by[n[:-len(suf)]][0] != sig:
                raise SystemExit(f"kernels/{f}:{ln}: {n} must have exactly the parameters of {n[:-len(suf)]}")
    o = ["// Generated by kernels/emu/gen_trampolines.py from kernels/geometry.h and kernels/*.cu: do not edit.",
         "package convunext.backend.cuda;", "",
         "/**",
         " * Every {@code extern \"C\" __global__} kernel of kernels/*.cu as a typed launch, and the launch",
         " * geometry of kernels/geometry.h. A launch names each argument as the kernel declares it, in its order:",
         " * <pre>{@code",
         " * Kernels.gemm_forward_bm128(k.at(op, tensors, grid, block, 0))",
         " *         .A(w).B(x).bias(b).C(y).M(m).N(p).K(kk).strideB(kk * p).strideC(m * p).tpb(1).launch();",
         " * }</pre>",
         " * so a missing, extra or swapped argument does not compile, and each method's javadoc gives the",
         " * kernel's file and line. Kernels with identical parameter lists share one builder type, so a",
         " * launcher picks among variants ({@code _bm64}, {@code _tf32}) in one expression. Pointers are",
         " * device addresses ({@code long}, 0 for null).",
         " */",
         "public final class Kernels {",
         "    private Kernels() {}", ""]
    o.append("    // ---------------------------------------------------------------- kernels/geometry.h")
    for name, v, comment, ln in geometry:
        o.append(f"    /** kernels/geometry.h:{ln}" + (f" — {comment.replace('*/', '* /')}" if comment else "") + " */")
        o.append(f"    public static final int {name} = {v};")
    o += ["", "    // ---------------------------------------------------------------- kernel table",
          f"    /** Number of kernels; ids are indices into {{@link #NAMES}}. */",
          f"    public static final int COUNT = {len(kernels)};",
          "    /** Kernel names by id (sorted). */",
          "    public static final java.util.List<String> NAMES = java.util.List.of(" +
          ", ".join(f'"{n}"' for n, _, _, _ in kernels) + ");",
          "    /** Parameter kinds by id, one letter per parameter: P pointer, I int, L long long, F float. */",
          "    public static final java.util.List<String> KINDS = java.util.List.of(" +
          ", ".join('"' + "".join(k for _, _, k in ps) + '"' for _, ps, _, _ in kernels) + ");",
          "    /** Where each kernel is defined, by id: \"file.cu:line\". */",
          "    public static final java.util.List<String> SOURCES = java.util.List.of(" +
          ", ".join(f'"{f}:{ln}"' for _, _, f, ln in kernels) + ");", "",
          "    /** Where a launch goes: the launcher's pending launch, given the kernel's arguments. */",
          "    public interface Sink {",
          "        /** Starts the arguments of kernel {@code id}; the builder appends them in order. */",
          "        KernelArgs begin(int id);",
          "        /** All arguments are there: launch. */",
          "        void launch();",
          "    }", "",
          "    /** A launch with every argument given. */",
          "    public interface Ready {",
          "        void launch();",
          "    }", ""]
    for i, (n, ps, f, ln) in enumerate(kernels):
        o.append(f"    public static final int ID_{n.upper()} = {i};")
    o.append("")
    for key, names in sorted(groups.items(), key=lambda kv: gname[kv[0]]):
        g = gname[key]
        params = [(pn, k) for k, pn in key]
        o.append(f"    /** The arguments of {', '.join(names)}, in order. */")
        o.append(f"    public interface {g} {{")
        for j, (pn, k) in enumerate(params):
            nxt = f"S{j + 2}" if j + 1 < len(params) else "Ready"
            o.append(f"        interface S{j + 1} {{ {nxt} {pn}({JAVA_TYPE[k]} {pn}); }}")
        o.append("    }")
        impls = ", ".join([f"{g}.S{j + 1}" for j in range(len(params))] + ["Ready"])
        o.append(f"    private static final class {g}Call implements {impls} {{")
        # `$` cannot occur in a C parameter name, so these fields never clash with one
        o.append("        private final Sink sink$;")
        o.append("        private final KernelArgs args$;")
        o.append(f"        {g}Call(Sink s, int id) {{ this.sink$ = s; this.args$ = s.begin(id); }}")
        for j, (pn, k) in enumerate(params):
            nxt = f"{g}.S{j + 2}" if j + 1 < len(params) else "Ready"
            o.append(f"        @Override public {nxt} {pn}({JAVA_TYPE[k]} {pn}) {{ args$.{ARG_CALL[k]}({pn}); return this; }}")
        o.append("        @Override public void launch() { sink$.launch(); }")
        o.append("    }")
        first = f"{g}.S1" if params else "Ready"
        for n in names:
            _, ps, f, ln = next(k for k in kernels if k[0] == n)
            decl = ", ".join(f"{t} {pn}" for t, pn, _ in ps).replace("*/", "* /")
            o.append(f"    /** kernels/{f}:{ln} — {{@code {n}({decl})}} */")
            o.append(f"    public static {first} {n}(Sink s) {{ return new {g}Call(s, ID_{n.upper()}); }}")
        o.append("")
    o.append("}")
    return "\n".join(o) + "\n"


def write(path, content):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--java":
        out, geometry, cus = sys.argv[2], sys.argv[3], sys.argv[4:]
        content = generate_java(parse_geometry(geometry), sorted(cus))
        if not os.path.exists(out) or open(out, encoding="utf-8").read() != content:
            write(out, content)   # unchanged content keeps its timestamp: no needless recompiles
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--instrument":
        instrumented_copy(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    cu, out_cpp, out_list = sys.argv[1:]
    kernels, smem = parse(cu)
    # the instrumented copy of the .cu beside the wrapper, which includes it by its plain name
    instrumented_copy(cu, os.path.join(os.path.dirname(out_cpp) or ".", os.path.basename(cu)))
    write(out_cpp, generate(cu, kernels, smem))
    base = os.path.basename(cu)
    write(out_list, "".join(f"{n} {os.path.splitext(base)[0]}.ptx\n" for n, _, _, _ in kernels))


if __name__ == "__main__":
    main()
