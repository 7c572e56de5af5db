#!/usr/bin/env python3
"""Checks the source layout: no file-level import cycles, and no file over 500 lines.

For every Rust file under app/src and server/src it collects the files it refers to: through
`use` statements (braces expanded), through inline `crate::`, `super::` and `self::` paths, and
through paths that start with a child module the file declares. A `mod x;` declaration alone is
not a reference. References to other crates (`app::…` from the server) cannot form a cycle and
are left out. Comments, string literals and everything from the first `#[cfg(test)]` on are
ignored.

Prints each cycle (as the files of one strongly connected component) and each long file, and
exits 1 if there is any. `--graph` also prints every file's references.
"""

import re
import sys
from pathlib import Path

MAX_LINES = 500
CRATES = ["app/src", "server/src"]


def strip(text):
    """Removes comments, string and char literals, keeping line breaks."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + len(hashes) + 2)
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += m.end()
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand(path):
    """`a::{b, c::{d, self}}` -> ['a::b', 'a::c::d', 'a::c']."""
    path = re.sub(r"\s+as\s+\w+", "", path)
    path = re.sub(r"\s+", "", path)
    m = re.match(r"^(.*?)\{(.*)\}$", path)
    if not m:
        return [path]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    result = []
    for p in filter(None, parts):
        for e in expand(p):
            result.append(prefix.rstrip(":") if e == "self" else prefix + e)
    return result


def module_of(rel):
    parts = list(rel.with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def main():
    root = Path(__file__).resolve().parent.parent
    failures = []
    show_graph = "--graph" in sys.argv
    for crate in CRATES:
        base = root / crate
        files = {}
        for f in sorted(base.rglob("*.rs")):
            rel = f.relative_to(base)
            if rel.name == "main.rs":
                continue  # the binary's own crate: nothing can refer back to it
            files[module_of(rel)] = f
        edges = {}
        for mod, f in files.items():
            text = f.read_text()
            head = text.split("#[cfg(test)]")[0]
            lines = head.count("\n") + (0 if head.endswith("\n") else 1)
            if lines > MAX_LINES:
                failures.append(f"{f.relative_to(root)}: {lines} lines before its tests (at most {MAX_LINES})")
            code = strip(head)
            here = mod
            children = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code, re.M))

            def resolve(path):
                segs = path.split("::")
                if segs[0] == "crate":
                    absolute = list(segs[1:])
                elif segs[0] in ("super", "self"):
                    absolute = list(here)
                    while segs and segs[0] in ("super", "self"):
                        if segs.pop(0) == "super":
                            absolute = absolute[:-1]
                    absolute += segs
                elif segs[0] in children:
                    absolute = list(here) + segs
                else:
                    return None
                for k in range(len(absolute), 0, -1):
                    target = files.get(tuple(absolute[:k]))
                    if target is not None:
                        return target
                return files.get(())

            refs = set()
            for stmt in re.findall(r"\buse\s+([^;]+);", code):
                for p in expand(stmt):
                    t = resolve(p)
                    if t:
                        refs.add(t)
            inline = re.findall(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", code)
            for name in children:
                inline += re.findall(rf"(?<![\w:])({name}(?:::\w+)+)", code)
            for p in inline:
                t = resolve(p)
                if t:
                    refs.add(t)
            refs.discard(f)
            edges[f] = refs
        if show_graph:
            for f, refs in edges.items():
                print(f.relative_to(root), "->", ", ".join(str(r.relative_to(root)) for r in sorted(refs)) or "-")
        for scc in components(edges):
            if len(scc) > 1:
                names = ", ".join(sorted(str(f.relative_to(root)) for f in scc))
                failures.append(f"import cycle between: {names}")
    for line in failures:
        print(line)
    if failures:
        return 1
    print(f"layout: no import cycles, no file over {MAX_LINES} lines")
    return 0


def components(edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
