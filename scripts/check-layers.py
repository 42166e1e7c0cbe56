#!/usr/bin/env python3
"""kprod's import rule: a module may import only modules of a strictly lower rank.

Run from the repository root:

    python3 scripts/check-layers.py              # check src/, exit 1 on any violation
    python3 scripts/check-layers.py --self-test  # check the checker on synthetic trees

Every `src/**/*.rs` reachable from `src/lib.rs` is read, test modules included (a test that
reaches up the stack would hide a dependency the rule forbids, and the same code can move
out of a test later). Each file belongs to the top-level module it sits in. References
counted as imports:

  * `use` declarations, `crate::` / `super::` paths anywhere in the tree, nested braces
    included (`use crate::{a::{b, c}, d};`);
  * inline paths such as `crate::x::y(...)` or `super::super::z::W`;
  * string literals that are a whole path (`#[serde(with = "crate::units::serde_duration")]`).

Comments (doc links included: they build no dependency) and other string literals are
ignored. `super::` counts only when it climbs out of its top-level module. An item taken
from the crate root (`crate::print_stderr`) counts as an import of the module `lib.rs`
re-exports it from; an item defined in `lib.rs` itself may be used by no module.

Standard library only, so it runs wherever python3 does.
"""

import os
import re
import subprocess
import sys
import tempfile

# Strictly lower ranks only. Within rank 0 (and between cli and commands) the order is
# fixed by the decimal: units < error < domain < signals, cli < commands.
RANKS = {
    "units": 0.0,
    "error": 0.1,
    "domain": 0.2,
    "signals": 0.3,
    "faults": 1,
    "client": 1,
    "verdict": 1,
    "profile": 2,
    "plan": 3,
    "workload": 4,
    "measure": 4,
    "verify": 4,
    "engine": 5,
    "report": 5,
    "charts": 6,
    "metrics": 6,
    "instance": 6,
    "cli": 7.0,
    "commands": 7.1,
}

ROOT = "(root)"

# Lexing: blank out comments and literals, keeping every offset and line break in place.


def strip(text):
    """Returns (nocomment, code, strings): `nocomment` has comments blanked; `code` also
    has the content of string and char literals blanked; both keep the length and the
    newlines of `text`, so an offset means the same in all three. `strings` holds the
    string literals as (offset, content)."""
    n = len(text)
    nc = list(text)
    code = list(text)
    strings = []
    i = 0

    def blank(buf, a, b):
        for k in range(a, b):
            if buf[k] != "\n":
                buf[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(nc, i, j)
            blank(code, i, j)
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(nc, i, j)
            blank(code, i, j)
            i = j
            continue
        # Raw strings: r"..", r#".."#, br#".."#, cr"..".
        m = re.compile(r'(?:b|c)?r(#*)"').match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            j = text.find(close, m.end())
            j = n if j < 0 else j
            strings.append((m.end(), text[m.end() : j]))
            blank(code, m.end(), j)
            i = j + len(close)
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            strings.append((i + 1, text[i + 1 : j]))
            blank(code, i + 1, j)
            i = j + 1
            continue
        if c == "'":
            # A char literal ('a', '\n', '\u{1F600}', '"') or a lifetime/label ('a, 'static).
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
                j = n if j < 0 else j
                blank(code, i + 1, j)
                i = j + 1
                continue
            if i + 2 < n and text[i + 2] == "'":
                blank(code, i + 1, i + 2)
                i += 3
                continue
        i += 1
    return "".join(nc), "".join(code), strings


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


# `use` trees.

USE_TOKEN = re.compile(r"\s*(::|[{},*;]|[A-Za-z_][A-Za-z0-9_]*)")


def parse_use_tree(code, start):
    """Parses the use tree starting at `start` (just after `use`) up to its `;`.
    Returns (one list of (segment, offset) per path, offset after the `;`)."""
    tokens = []
    pos = start
    while pos < len(code):
        m = USE_TOKEN.match(code, pos)
        if not m:
            break
        tok = m.group(1)
        tokens.append((tok, m.start(1)))
        pos = m.end()
        if tok == ";":
            break
    out = []

    def tree(k, prefix):
        # One use tree: path segments, then `{...}`, `*`, or the last segment (`as x`).
        segs = list(prefix)
        while k < len(tokens):
            tok, off = tokens[k]
            if tok == "::":
                k += 1
                continue
            if tok == "{":
                k += 1
                while k < len(tokens) and tokens[k][0] != "}":
                    if tokens[k][0] == ",":
                        k += 1
                        continue
                    k = tree(k, segs)
                return k + 1
            if tok == "*":
                out.append(segs)
                return k + 1
            if tok in (",", "}", ";"):
                if segs:
                    out.append(segs)
                return k
            if tok == "as":
                out.append(segs)
                return k + 2
            # `use a::{self, b}`: `self` names `a` itself.
            if tok != "self" or not segs:
                segs = segs + [(tok, off)]
            k += 1
        if segs:
            out.append(segs)
        return k

    tree(0, [])
    end = tokens[-1][1] + 1 if tokens else start
    return out, end


# Files and modules.

MOD_DECL = re.compile(
    r"((?:#\s*\[[^\]]*\]\s*)*)(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_]\w*)\s*([;{])"
)
PATH_ATTR = re.compile(r'#\s*\[\s*path\s*=\s*"([^"]*)"\s*\]')


class SourceFile:
    def __init__(self, path, rel, module):
        self.path = path
        self.rel = rel
        self.module = module  # module path of the file, e.g. ["report", "build"]
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.nocomment, self.code, self.strings = strip(self.text)
        self.inline = self._inline_modules()

    def _inline_modules(self):
        """(start, end, name) of every inline `mod name { ... }` block."""
        spans = []
        for m in MOD_DECL.finditer(self.code):
            if m.group(3) != "{":
                continue
            open_at = m.end() - 1
            depth, j = 0, open_at
            while j < len(self.code):
                if self.code[j] == "{":
                    depth += 1
                elif self.code[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            spans.append((open_at, j, m.group(2)))
        return spans

    def module_at(self, offset):
        """The module path in force at `offset` (inline modules included)."""
        inner = [(a, name) for a, b, name in self.inline if a < offset < b]
        return self.module + [name for _, name in sorted(inner)]

    def file_mods(self):
        """(name, #[path] or None) of every `mod name;` declared in this file."""
        out = []
        for m in MOD_DECL.finditer(self.code):
            if m.group(3) != ";":
                continue
            attrs = self.nocomment[m.start(1) : m.end(1)]
            p = PATH_ATTR.search(attrs)
            out.append((m.group(2), p.group(1) if p else None))
        return out


def load_tree(src):
    """Walks the module trees from src/lib.rs and src/main.rs; returns the files in them.
    A file no `mod` reaches is compiled into nothing, so it is not read."""
    files = []
    seen = set()

    def visit(path, module):
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(path):
            return
        seen.add(real)
        f = SourceFile(path, os.path.relpath(path, os.path.dirname(src)), module)
        files.append(f)
        base = os.path.basename(path)
        here = os.path.dirname(path)
        if base in ("lib.rs", "main.rs", "mod.rs"):
            child_dir = here
        else:
            child_dir = os.path.join(here, base[: -len(".rs")])
        for name, attr in f.file_mods():
            if attr is not None:
                visit(os.path.join(here, attr), module + [name])
                continue
            flat = os.path.join(child_dir, name + ".rs")
            nested = os.path.join(child_dir, name, "mod.rs")
            visit(flat if os.path.isfile(flat) else nested, module + [name])

    visit(os.path.join(src, "lib.rs"), [])
    # The binary's root: it reaches the library as `kprod::`, never by `crate::`.
    visit(os.path.join(src, "main.rs"), [])
    return files


def root_exports(files):
    """Names `lib.rs` re-exports (`pub use x::{A, B as C}`) -> the top-level module."""
    out = {}
    for f in files:
        if f.module or os.path.basename(f.path) != "lib.rs":
            continue
        for m in re.finditer(r"\buse\b", f.code):
            paths, _ = parse_use_tree(f.code, m.end())
            for path in paths:
                segs = [name for name, _ in path]
                if segs and segs[0] == "crate":
                    segs = segs[1:]
                # `as` renames are rare enough at the root to go by the original name.
                if len(segs) >= 2:
                    out[segs[-1]] = segs[0]
    return out


# References.

INLINE_PATH = re.compile(r"(?<![\w$])(crate|super)((?:\s*::\s*[A-Za-z_]\w*)+)")
WHOLE_PATH = re.compile(r"^(crate|super)((?:::[A-Za-z_]\w*)+)$")


def references(f):
    """Every path that may leave the file's module, as a list of (segment, offset)."""
    refs = []
    use_spans = []
    for m in re.finditer(r"\buse\b", f.code):
        paths, end = parse_use_tree(f.code, m.end())
        use_spans.append((m.start(), end))
        refs.extend(paths)
    for m in INLINE_PATH.finditer(f.code):
        if any(a <= m.start() < b for a, b in use_spans):
            continue
        # `pub(in crate::x)` is a visibility, not a use of x.
        if re.search(r"\bin\s*$", f.code[max(0, m.start() - 8) : m.start()]):
            continue
        path = [(m.group(1), m.start(1))]
        for seg in re.finditer(r"[A-Za-z_]\w*", m.group(2)):
            path.append((seg.group(0), m.start(2) + seg.start()))
        refs.append(path)
    for off, s in f.strings:
        m = WHOLE_PATH.match(s)
        if m:
            refs.append([(seg, off) for seg in s.split("::")])
    return refs


def target(path, module, exports, tops):
    """(top-level module, index of the segment that names it) a path from `module` lands
    in; None when it stays inside, is external (std, a dependency) or is relative to a
    local name."""
    segs = [name for name, _ in path]
    if not segs:
        return None
    head = segs[0]
    if head == "crate":
        k = 1
    elif head == "super":
        k = 0
        while k < len(segs) and segs[k] == "super":
            k += 1
        if k < len(module):
            return None  # still inside the top-level module
    elif not module and head in tops:
        k = 0  # lib.rs / main.rs name top-level modules directly
    else:
        return None
    if k >= len(segs):
        return ROOT, len(segs) - 1
    if segs[k] in tops:
        return segs[k], k
    if segs[k] in exports:
        return exports[segs[k]], k
    return ROOT, k


# The check.


def check(src, ranks):
    """Returns (violations, edges checked, files read); violations are printable lines."""
    files = load_tree(src)
    tops = {f.module[0] for f in files if f.module}
    exports = root_exports(files)
    violations = []
    edges = {}
    checked = 0
    for f in files:
        if not f.module:
            continue  # the crate root (lib.rs, main.rs) may use anything
        here = f.module[0]
        for ref in references(f):
            found = target(ref, f.module_at(ref[0][1]), exports, tops)
            if found is None or found[0] == here:
                continue
            there, k = found
            checked += 1
            where = f"{f.rel}:{line_of(f.text, ref[k][1])}"
            path = "::".join(name for name, _ in ref)
            if there == ROOT:
                violations.append(
                    f"{where}: {here} -> lib.rs (`{path}`): items defined in the crate root "
                    "are for main.rs only; move the item into a module of the right rank"
                )
                continue
            edges.setdefault((here, there), f"{where} (`{path}`)")
            missing = [m for m in (here, there) if m not in ranks]
            if missing:
                violations.append(
                    f"{where}: {here} -> {there} (`{path}`): module "
                    f"{', '.join(missing)} has no rank; add it to RANKS in "
                    "scripts/check-layers.py and to the table in docs/ARCHITECTURE.md"
                )
            elif ranks[here] <= ranks[there]:
                violations.append(
                    f"{where}: {here} (rank {ranks[here]}) -> {there} (rank {ranks[there]}) "
                    f"(`{path}`): a module may import only strictly lower ranks"
                )
    for group, cycle in cycles(edges):
        shown = "; ".join(
            f"{a} -> {b} at {edges[(a, b)]}" for a, b in zip(cycle, cycle[1:] + cycle[:1])
        )
        violations.append(f"cycle among {', '.join(sorted(group))}: for example {shown}")
    return violations, checked, len(files)


def cycles(edges):
    """(group, one cycle through it) for each strongly connected group of two or more
    modules."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, groups = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(set(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for group in groups:
        # The shortest way from the group's smallest member back to itself (breadth first).
        start = min(group)
        prev = {}
        queue = [start]
        while queue and start not in prev:
            v = queue.pop(0)
            for w in sorted(graph[v] & group):
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
        path = [start]
        v = prev[start]
        while v != start:
            path.insert(1, v)
            v = prev[v]
        out.append((group, path))
    return out


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) > 1:
        print("usage: python3 scripts/check-layers.py [--self-test]", file=sys.stderr)
        return 2
    src = os.path.join(os.getcwd(), "src")
    if not os.path.isfile(os.path.join(src, "lib.rs")):
        print("check-layers: run it from the repository root (no src/lib.rs here)",
              file=sys.stderr)
        return 2
    violations, checked, nfiles = check(src, RANKS)
    if violations:
        for v in violations:
            print(v)
        print(
            f"check-layers: FAILED: {len(violations)} problem(s) in {checked} imports between "
            f"top-level modules ({nfiles} files); ranks are in scripts/check-layers.py"
        )
        return 1
    print(
        f"check-layers: OK: {checked} imports between top-level modules checked in {nfiles} "
        "files, each to a strictly lower rank, no cycle"
    )
    return 0


# Self-test: synthetic trees the checker must pass or fail.

SELF_RANKS = {"units": 0, "domain": 1, "engine": 2, "report": 2, "commands": 3}

CLEAN = {
    "lib.rs": """
        pub mod commands;
        pub mod domain;
        pub mod engine;
        pub mod report;
        pub mod units;
        pub use domain::console::print_stderr;
        pub fn run() {}
    """,
    "units.rs": """
        //! Units. A doc link to [`crate::engine::run`] builds no dependency.
        pub fn f() { let _ = "crate::report::nothing in a message"; let _c = '"'; }
        /* crate::engine::x in a block comment */
    """,
    "domain/mod.rs": """
        pub mod console;
        use crate::units;
        pub struct Outcome<'a>(&'a str);
    """,
    "domain/console.rs": "pub fn print_stderr(_: &str) {}\n",
    "engine/mod.rs": """
        mod inner;
        use crate::{domain::{self, Outcome}, units::f};
        pub fn run() { crate::print_stderr("root re-export of domain"); }
    """,
    "engine/inner.rs": """
        use super::run;
        fn g() { super::super::domain::console::print_stderr(""); }
    """,
    "report/mod.rs": """
        #[serde(with = "crate::units::serde")]
        struct S;
        #[cfg(test)]
        #[path = "odd_tests.rs"]
        mod tests;
    """,
    "report/odd_tests.rs": "use super::*;\nuse crate::domain::Outcome;\n",
    "commands/mod.rs": "use crate::{engine, report};\npub(crate) fn x() {}\n",
}

# (files replacing those of CLEAN, the violation that must be reported: "file:line" and a
# fragment of the message)
BROKEN = [
    ({"units.rs": "use crate::{\n    domain::{console::{print_stderr}},\n};\n"},
     "src/units.rs:2", "units (rank 0) -> domain"),
    ({"report/mod.rs": "fn f() { crate::engine::run(); }\n"},
     "src/report/mod.rs:1", "report (rank 2) -> engine (rank 2)"),
    ({"report/odd_tests.rs": "#[test]\nfn t() { crate::commands::x(); }\n"},
     "src/report/odd_tests.rs:2", "report (rank 2) -> commands"),
    ({"engine/inner.rs": "fn g() {\n    super::super::commands::x();\n}\n"},
     "src/engine/inner.rs:2", "engine (rank 2) -> commands"),
    ({"domain/mod.rs": "pub mod console;\nmod t {\n    mod u {\n"
                       "        use super::super::super::report;\n    }\n}\n"},
     "src/domain/mod.rs:4", "domain (rank 1) -> report"),
    ({"domain/mod.rs": "pub mod console;\n#[serde(default = \"crate::engine::d\")]\nstruct S;\n"},
     "src/domain/mod.rs:2", "domain (rank 1) -> engine"),
    ({"units.rs": "fn f() { crate::run(); }\n"},
     "src/units.rs:1", "units -> lib.rs"),
    ({"units.rs": "use crate::extra::X;\n", "extra.rs": "pub struct X;\n",
      "lib.rs": CLEAN["lib.rs"] + "pub mod extra;\n"},
     "src/units.rs:1", "extra has no rank"),
]


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, "src", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(line.strip() for line in text.strip("\n").split("\n")) + "\n")


def self_test():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, "clean")
        write_tree(clean, CLEAN)
        violations, checked, _ = check(os.path.join(clean, "src"), SELF_RANKS)
        if violations or checked < 8:
            failures.append(f"clean tree: expected no violation and >= 8 edges, got "
                            f"{checked} edges, {violations}")
        for n, (changed, where, fragment) in enumerate(BROKEN):
            root = os.path.join(tmp, f"broken{n}")
            write_tree(root, {**CLEAN, **changed})
            violations, _, _ = check(os.path.join(root, "src"), SELF_RANKS)
            if not any(v.startswith(where) and fragment in v for v in violations):
                failures.append(f"{where}: expected `...{fragment}...`, got {violations}")
        # A cycle among modules of no rank is reported as a cycle too.
        root = os.path.join(tmp, "cycle")
        write_tree(root, {
            "lib.rs": "mod a;\nmod b;\n",
            "a.rs": "use crate::b::B;\npub struct A;\n",
            "b.rs": "pub struct B(crate::a::A);\n",
        })
        violations, _, _ = check(os.path.join(root, "src"), {"a": 1, "b": 1})
        if not any(v.startswith("cycle among a, b") for v in violations):
            failures.append(f"cycle: expected `cycle among a, b`, got {violations}")
        # The script itself, with its real ranks, as CI runs it: exit 0 on the clean tree,
        # 1 on a tree where report imports engine.
        for tree, expected in (("clean", 0), ("broken1", 1)):
            run = subprocess.run(
                [sys.executable, os.path.abspath(__file__)],
                cwd=os.path.join(tmp, tree),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            if run.returncode != expected:
                failures.append(f"{tree}: exit {run.returncode}, expected {expected}: "
                                f"{run.stdout}")
    if failures:
        for f in failures:
            print(f"self-test: {f}")
        print(f"check-layers: self-test FAILED ({len(failures)})")
        return 1
    print(f"check-layers: self-test OK ({len(BROKEN) + 4} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
