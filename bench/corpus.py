"""Deterministic benchmark corpus: a tree of ordinary files with a known set of planted keys.

Every key is synthetic and made here at run time from a fixed seed, so the repository holds no
realistic credential and two runs with the same arguments write byte-identical trees.

Speed comes from reuse: each file kind gets one pool of a few MB of generated lines, and every
file is a unique header line plus a slice of its pool at a random offset. The tree for 1 GB
(~69k files) is written in a few seconds, mostly disk time.

    python bench/corpus.py                       # 1 GB tree in ~/.cache/keyscan-bench/
    python bench/corpus.py --size-mb 64 --out DIR

Layout of OUT (default ~/.cache/keyscan-bench/corpus-<size>mb-s<seed>):
    tree/            the files to scan
    manifest.json    what was planted (outside tree/, so scanners never see it)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import string
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20240229
# Outside the checkout, so that `keyscan scan .` on the project never meets the planted keys.
DATA_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "keyscan-bench"
POOL_BYTES = 4 << 20
MANIFEST_VERSION = 2

# ---------------------------------------------------------------------------------------------
# Synthetic credentials (same layout as tests/fakes.py, kept here so bench/ stands alone)

_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"
EXAMPLE_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"  # AWS documentation example, split so it reads as data
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def fake_key_id(rng: random.Random, prefix: str = "AKIA") -> str:
    """A key ID with the real layout: prefix + base32 of 10 bytes (new-generation, with account)."""
    account = rng.randrange(10**11, 10**12)
    z = (1 << 47) | (account << 7) | rng.getrandbits(7)
    body = z.to_bytes(6, "big") + rng.getrandbits(32).to_bytes(4, "big")
    return prefix + base64.b32encode(body).decode()


def fake_secret(rng: random.Random) -> str:
    while True:
        value = "".join(rng.choice(_SECRET_ALPHABET) for _ in range(40))
        if any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def fake_token(rng: random.Random, length: int = 600) -> str:
    prefix = "IQoJb3JpZ2luX2Vj"
    return prefix + "".join(rng.choice(_SECRET_ALPHABET) for _ in range(length - len(prefix)))


# ---------------------------------------------------------------------------------------------
# Ordinary content: line templates per file kind

WORDS = (
    "account address admin agent alpha api app archive auth backend batch beta bucket buffer "
    "build bundle cache callback channel check client cluster config connect consumer context "
    "count credential cursor data database debug default delta deploy detail device digest "
    "domain driver email engine entry error event export factory feature fetch field filter "
    "flag format frame gateway handler hash header health host image index input instance item "
    "job json key label layer limit list loader local lock logger manager map message metric "
    "model module monitor name node object offset option order output owner package page parser "
    "password path payload peer pipeline policy pool port prefix process profile project proxy "
    "queue record region registry release remote report request resource response result role "
    "route runner schema scope secret selector server service session setting shard signal "
    "source stage state status storage stream subject table target task tenant timeout token "
    "topic trace tracker update upload user util value vault version view volume worker zone"
).split()


def _w(rng: random.Random) -> str:
    return rng.choice(WORDS)


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _b64(rng: random.Random, nbytes: int) -> str:
    return base64.b64encode(rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big")).decode()


def _camel(rng: random.Random) -> str:
    return _w(rng) + _w(rng).capitalize()


def py_line(r: random.Random) -> str:
    return r.choice([
        f"def {_w(r)}_{_w(r)}(self, {_w(r)}, {_w(r)}=None):",
        f"    return self.{_w(r)}.get({_w(r)!r}, {r.randrange(1000)})",
        f"import {_w(r)}",
        f"from {_w(r)}.{_w(r)} import {_camel(r)}",
        f"    # {_w(r)} the {_w(r)} before the {_w(r)} is {_w(r)}ed",
        f'        logger.info("{_w(r)} %s {_w(r)} %d", {_w(r)}, len({_w(r)}))',
        f"    {_w(r)}_{_w(r)} = {_w(r)}.{_w(r)}({_w(r)}, timeout={r.randrange(60)})",
        f'    checksum = "{_hex(r, 40)}"',
        f'    {_w(r)}_key = os.environ.get("{_w(r).upper()}_KEY", "")',
        f"class {_camel(r).capitalize()}({_camel(r).capitalize()}):",
        f"        if {_w(r)} is None or not {_w(r)}.{_w(r)}:",
        f"            raise ValueError(f\"bad {_w(r)}: {{{_w(r)}!r}}\")",
        "",
    ])


def js_line(r: random.Random) -> str:
    return r.choice([
        f"const {_camel(r)} = require('{_w(r)}-{_w(r)}');",
        f"export function {_camel(r)}({_w(r)}, {_w(r)}) {{",
        f"  return {_w(r)}.{_camel(r)}({_w(r)}).then((res) => res.{_w(r)});",
        f"  if (!{_w(r)}.{_w(r)}) throw new Error('{_w(r)} {_w(r)} missing');",
        f"  // TODO: {_w(r)} {_w(r)} {_w(r)}",
        f"  const {_w(r)}Token = process.env.{_w(r).upper()}_TOKEN;",
        f"  {_w(r)}: {{ {_w(r)}: {r.randrange(100)}, {_w(r)}: '{_w(r)}' }},",
        f"  integrity: 'sha512-{_b64(r, 64)}',",
        "}",
        "",
    ])


def go_line(r: random.Random) -> str:
    return r.choice([
        f"func (s *{_camel(r).capitalize()}) {_camel(r).capitalize()}(ctx context.Context) "
        "error {",
        "\tif err != nil {",
        "\t\treturn err",
        "\t}",
        f"\t{_w(r)}, err := s.{_w(r)}.{_camel(r).capitalize()}(ctx, {_w(r)})",
        f'\t{_w(r)} := fmt.Sprintf("%s/{_w(r)}/%d", {_w(r)}, {r.randrange(99)})',
        f"\t// {_camel(r).capitalize()} returns the {_w(r)} for {_w(r)}.",
        f'\t"github.com/{_w(r)}/{_w(r)}"',
        "}",
        "",
    ])


def yaml_line(r: random.Random) -> str:
    return r.choice([
        f"{_w(r)}:",
        f"  {_w(r)}: {_w(r)}-{_w(r)}",
        f"  - name: {_w(r)}-{r.randrange(100)}",
        f"    image: registry.example.com/{_w(r)}/{_w(r)}:{r.randrange(9)}.{r.randrange(30)}",
        f"    {_w(r)}_{_w(r)}: {r.randrange(10000)}",
        f"    secretRef: {_w(r)}-{_w(r)}-secret",
        f"    digest: sha256:{_hex(r, 64)}",
        "",
    ])


def json_line(r: random.Random) -> str:
    return r.choice([
        f'    "{_w(r)}": "{_w(r)}-{_w(r)}",',
        f'    "node_modules/{_w(r)}-{_w(r)}": {{',
        f'      "version": "{r.randrange(9)}.{r.randrange(20)}.{r.randrange(20)}",',
        f'      "resolved": "https://registry.npmjs.org/{_w(r)}/-/{_w(r)}-1.{r.randrange(9)}.0.tgz",',
        f'      "integrity": "sha512-{_b64(r, 64)}",',
        f'      "id": "{_uuid(r)}",',
        "    },",
    ])


def ini_line(r: random.Random) -> str:
    return r.choice([
        f"[{_w(r)}.{_w(r)}]",
        f"{_w(r)}_{_w(r)} = {_w(r)}",
        f"{_w(r)} = {r.randrange(100000)}",
        f"; {_w(r)} {_w(r)} {_w(r)}",
        f"{_w(r)}_url = https://{_w(r)}.internal/{_w(r)}",
        "",
    ])


def env_line(r: random.Random) -> str:
    return r.choice([
        f"{_w(r).upper()}_{_w(r).upper()}={_w(r)}",
        f"{_w(r).upper()}_PORT={r.randrange(1024, 65535)}",
        f"DATABASE_URL=postgres://{_w(r)}@{_w(r)}.internal:5432/{_w(r)}",
        f"{_w(r).upper()}_SECRET=${{{_w(r).upper()}_SECRET}}",
        f"# {_w(r)} {_w(r)}",
    ])


def log_line(r: random.Random) -> str:
    ts = f"2024-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:" \
         f"{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}Z"
    return r.choice([
        f"{ts} INFO  [{_w(r)}] request_id={_uuid(r)} status=200 latency_ms={r.randrange(900)}",
        f"{ts} DEBUG [{_w(r)}] {_w(r)} {_w(r)} key={_w(r)} trace={_hex(r, 32)}",
        f"{ts} WARN  [{_w(r)}] retrying {_w(r)} after {r.randrange(30)}s: {_w(r)} timeout",
        f"{ts} ERROR [{_w(r)}] {_w(r)} failed: {_w(r)} not found (code={r.randrange(600)})",
        f'{r.randrange(256)}.{r.randrange(256)}.0.{r.randrange(256)} - - [{ts}] "GET /{_w(r)}/'
        f'{_w(r)}?session={_hex(r, 24)} HTTP/1.1" 200 {r.randrange(99999)}',
    ])


def md_line(r: random.Random) -> str:
    words = " ".join(_w(r) for _ in range(r.randrange(4, 16)))
    heading = f"## {_w(r).capitalize()} {_w(r)}"
    return r.choice([f"{words}.", heading, f"- {words}", "", f"`{_w(r)}`"])


def minjs_line(r: random.Random) -> str:
    """Minified JavaScript has no newlines; the pool is joined with ';' instead."""
    return r.choice([
        f"var {r.choice(string.ascii_letters)}={_w(r)}.{_camel(r)}({r.randrange(99)})",
        f"function {r.choice(string.ascii_letters)}(e,t){{return e.{_w(r)}(t)}}",
        f'{r.choice(string.ascii_letters)}.{_w(r)}="{_w(r)}-{_hex(r, 8)}"',
        f"if(!e.{_w(r)})throw new Error(\"{_w(r)}\")",
    ])


@dataclass(frozen=True)
class Kind:
    name: str
    ext: str
    line: Callable[[random.Random], str]
    weight: int
    sep: str = "\n"
    comment: str = "# {}"


KINDS: tuple[Kind, ...] = (
    Kind("python", ".py", py_line, 24),
    Kind("javascript", ".js", js_line, 16, comment="// {}"),
    Kind("go", ".go", go_line, 10, comment="// {}"),
    Kind("yaml", ".yaml", yaml_line, 10),
    Kind("json", ".json", json_line, 8, comment='{{"_file": "{}"}},'),
    Kind("ini", ".ini", ini_line, 4, comment="; {}"),
    Kind("env", ".env", env_line, 2),
    Kind("log", ".log", log_line, 10, comment="{}"),
    Kind("markdown", ".md", md_line, 12, comment="<!-- {} -->"),
    Kind("minjs", ".min.js", minjs_line, 2, sep=";", comment="/*{}*/"),
)
KIND_BY_NAME = {k.name: k for k in KINDS}


def build_pool(kind: Kind, rng: random.Random, size: int = POOL_BYTES) -> bytes:
    """A few MB of this kind's text: a few thousand distinct lines, sampled with repetition."""
    distinct = [kind.line(rng) for _ in range(3000)]
    mean = sum(len(x) + 1 for x in distinct) / len(distinct)
    lines = rng.choices(distinct, k=int(size / mean) + 1)
    return kind.sep.join(lines).encode()[:size]


def pool_slice(pool: bytes, rng: random.Random, size: int, sep: bytes) -> bytes:
    """About `size` bytes of the pool, starting just after a separator."""
    parts = []
    while size > 0:
        take = min(size, len(pool) // 2)
        start = rng.randrange(len(pool) - take)
        start = pool.find(sep, start) + 1
        parts.append(pool[start : start + take])
        size -= take
    return sep.join(parts)


# ---------------------------------------------------------------------------------------------
# Planted credentials

PAIR_SYNTAX: dict[str, str] = {
    "env": "AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}",
    "shell": 'export AWS_ACCESS_KEY_ID="{k}"\nexport AWS_SECRET_ACCESS_KEY="{s}"',
    "ini": "[profile deploy]\naws_access_key_id = {k}\naws_secret_access_key = {s}",
    "json": '    "AccessKeyId": "{k}",\n    "SecretAccessKey": "{s}",',
    "yaml": "  aws_access_key_id: {k}\n  aws_secret_access_key: {s}",
    "python": '    s3 = boto3.client("s3", aws_access_key_id="{k}", aws_secret_access_key="{s}")',
    "javascript": "  const s3 = new S3({{ accessKeyId: '{k}', secretAccessKey: '{s}' }});",
    "go": '\tcreds := credentials.NewStaticCredentials("{k}", "{s}", "")',
    "properties": "aws.accessKeyId={k}\naws.secretKey={s}",
    "csv": "User name,Password,Access key ID,Secret access key,Console login link\n"
           "ci-bot,,{k},{s},https://console.aws.amazon.com/",
    "log": "2024-02-01T10:00:00.000Z DEBUG [boto] using credentials {k} {s} from env",
    "minjs": ',aws:{{accessKeyId:"{k}",secretAccessKey:"{s}"}}',
    "markdown": "```\naws_access_key_id={k}\naws_secret_access_key={s}\n```",
}
SESSION_SYNTAX = (
    '    "Credentials": {{\n        "AccessKeyId": "{k}",\n        "SecretAccessKey": "{s}",\n'
    '        "SessionToken": "{t}",\n        "Expiration": "2024-03-01T12:00:00Z"\n    }},'
)
LONE_SYNTAX = "{c} rotated the old deploy key {k} in March"

# Which pair syntax goes into which file kind (so a .py file gets a Python assignment, etc.).
SYNTAX_FOR_KIND: dict[str, tuple[str, ...]] = {
    "python": ("python", "env", "shell"),
    "javascript": ("javascript", "json"),
    "go": ("go",),
    "yaml": ("yaml",),
    "json": ("json",),
    "ini": ("ini", "properties"),
    "env": ("env", "shell"),
    "log": ("log", "csv"),
    "markdown": ("markdown", "shell", "ini", "csv"),
    "minjs": ("minjs",),
}


@dataclass
class Plan:
    """What goes into the tree: planted snippets by file index, and the manifest's facts."""

    snippets: dict[int, list[str]] = field(default_factory=dict)
    key_ids: list[str] = field(default_factory=list)  # every planted (non-example) key ID
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, index: int, snippet: str, kind: str, key_id: str | None) -> None:
        self.snippets.setdefault(index, []).append(snippet)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if key_id is not None:
            self.key_ids.append(key_id)


def plan_plants(
    rng: random.Random, kinds: list[Kind], pairs: int, sessions: int, lone: int, decoys: int
) -> Plan:
    """Choose files and syntaxes for every planted key (a file gets at most one plant)."""
    plan = Plan()
    total = pairs + sessions + lone + decoys
    # The first two pairs go into a big log (file 0) and a big minified bundle (file 8).
    rest = rng.sample(range(24, len(kinds)), min(total - 2, len(kinds) - 24))
    it = iter([0, 8, *rest])
    for _ in range(pairs):
        i = next(it)
        syntax = rng.choice(SYNTAX_FOR_KIND[kinds[i].name])
        k = fake_key_id(rng)
        plan.add(i, PAIR_SYNTAX[syntax].format(k=k, s=fake_secret(rng)), "credential", k)
    for _ in range(sessions):
        i = next(it)
        k = fake_key_id(rng, "ASIA")
        snippet = SESSION_SYNTAX.format(k=k, s=fake_secret(rng), t=fake_token(rng))
        plan.add(i, snippet, "session_credential", k)
    for _ in range(lone):
        i = next(it)
        comment = "//" if kinds[i].name in ("javascript", "go", "minjs") else "#"
        k = fake_key_id(rng)
        plan.add(i, LONE_SYNTAX.format(c=comment, k=k), "lone_key_id", k)
    for _ in range(decoys):
        i = next(it)
        snippet = PAIR_SYNTAX["env"].format(k=EXAMPLE_KEY_ID, s=EXAMPLE_SECRET)
        plan.add(i, snippet, "example_decoy", None)
    return plan


def insert_snippet(body: bytes, snippet: str, rng: random.Random, sep: bytes) -> bytes:
    """Put the snippet at a separator boundary somewhere in the middle of the body."""
    at = body.find(sep, rng.randrange(max(1, len(body))))
    if at < 0:
        at = len(body)
    glue = b"" if sep != b"\n" else b"\n"
    return body[:at] + glue + snippet.encode() + glue + body[at:]


# ---------------------------------------------------------------------------------------------
# The tree


@dataclass(frozen=True)
class FileSpec:
    index: int
    kind: Kind
    size: int
    path: str


def file_specs(rng: random.Random, total_bytes: int) -> list[FileSpec]:
    """Sizes and paths: ~83% small files (mean ~12.5 KB), the rest a few big logs and bundles."""
    specs: list[FileSpec] = []
    big = [("log", total_bytes // 80)] * 8 + [("minjs", total_bytes // 400)] * 8 + \
          [("json", total_bytes // 250)] * 4 + [("markdown", total_bytes // 1000)] * 4
    for n, (kind, size) in enumerate(big):
        ext = KIND_BY_NAME[kind].ext
        specs.append(FileSpec(len(specs), KIND_BY_NAME[kind], size, f"big/{kind}-{n:02d}{ext}"))
    budget = total_bytes - sum(s.size for s in specs)
    weights = [k.weight for k in KINDS]
    while budget > 0:
        kind = rng.choices(KINDS, weights)[0]
        size = max(64, min(1 << 20, int(rng.lognormvariate(9.0, 1.0))))
        size = min(size, budget)
        i = len(specs)
        d = i // 200
        path = f"proj{d // 20:03d}/{_w(rng)}{d % 20:02d}/{kind.name[:3]}_{i:06d}{kind.ext}"
        specs.append(FileSpec(i, kind, size, path))
        budget -= size
    return specs


def file_body(spec: FileSpec, pool: bytes, rng: random.Random, snippets: list[str]) -> bytes:
    sep = spec.kind.sep.encode()
    header = spec.kind.comment.format(f"{spec.path} generated by keyscan bench corpus").encode()
    body = pool_slice(pool, rng, spec.size, sep)
    for snippet in snippets:
        body = insert_snippet(body, snippet, rng, sep)
    return header + b"\n" + body + b"\n"


def binary_body(rng: random.Random, size: int) -> bytes:
    """An image-like blob: a PNG signature and random bytes (with NULs), for binary skipping."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(size)


def write_tree(out: Path, size_mb: int, seed: int) -> dict[str, object]:
    """Write OUT/tree and return the manifest (not yet saved)."""
    rng = random.Random(seed)
    pools = {k.name: build_pool(k, random.Random(f"{seed}-{k.name}")) for k in KINDS}
    specs = file_specs(rng, size_mb << 20)
    plan = plan_plants(random.Random(seed + 1), [s.kind for s in specs],
                       pairs=120, sessions=20, lone=20, decoys=40)
    tree = out / "tree"
    made_dirs: set[str] = set()
    total = 0
    for spec in specs:
        data = file_body(spec, pools[spec.kind.name], rng, plan.snippets.get(spec.index, []))
        total += write_file(tree, spec.path, data, made_dirs)
    n_binary = max(1, len(specs) // 250)
    for i in range(n_binary):
        data = binary_body(rng, rng.randrange(2_000, 60_000))
        total += write_file(tree, f"assets/img{i // 100:02d}/image_{i:05d}.png", data, made_dirs)
    return {
        "version": MANIFEST_VERSION,
        "seed": seed,
        "size_mb": size_mb,
        "files": len(specs) + n_binary,
        "binary_files": n_binary,
        "bytes": total,
        "planted": plan.counts,
        "key_ids": plan.key_ids,
        "example_key_id": EXAMPLE_KEY_ID,
    }


def write_file(root: Path, rel: str, data: bytes, made_dirs: set[str]) -> int:
    parent = os.path.dirname(rel)
    if parent not in made_dirs:
        (root / parent).mkdir(parents=True, exist_ok=True)
        made_dirs.add(parent)
    with open(root / rel, "wb") as f:
        f.write(data)
    return len(data)


def ensure_corpus(out: Path, size_mb: int, seed: int) -> dict[str, object]:
    """Reuse OUT if its manifest matches these arguments; otherwise (re)generate it."""
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if (manifest.get("version"), manifest.get("seed"), manifest.get("size_mb")) == (
            MANIFEST_VERSION, seed, size_mb
        ):
            return manifest
    if (out / "tree").exists():
        shutil.rmtree(out / "tree")
    manifest = write_tree(out, size_mb, seed)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def default_corpus_dir(size_mb: int, seed: int, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"corpus-{size_mb}mb-s{seed}"


# ---------------------------------------------------------------------------------------------
# One big file (peak-RSS case) and a handful of small files (hook-latency case)


def ensure_big_file(out: Path, size_mb: int, seed: int) -> tuple[Path, list[str]]:
    """One log file of SIZE_MB with 4 planted pairs; returns its path and the planted key IDs."""
    path = out / f"big-{size_mb}mb.log"
    rng = random.Random(seed + 2)
    keys = [fake_key_id(rng) for _ in range(4)]
    secrets = [fake_secret(rng) for _ in range(4)]
    if path.exists() and path.stat().st_size >= size_mb << 20:
        return path, keys
    out.mkdir(parents=True, exist_ok=True)
    pool = build_pool(KIND_BY_NAME["log"], random.Random(f"{seed}-log"))
    block = 1 << 20
    plant_at = {size_mb * (n + 1) // 5 for n in range(4)}
    with open(path, "wb") as f:
        for mb in range(size_mb):
            data = pool_slice(pool, rng, block, b"\n")
            if mb in plant_at:
                n = sorted(plant_at).index(mb)
                snippet = PAIR_SYNTAX["log"].format(k=keys[n], s=secrets[n])
                data = insert_snippet(data, snippet, rng, b"\n")
            f.write(data + b"\n")
    return path, keys


def ensure_hook_files(out: Path, seed: int) -> list[Path]:
    """Five small clean files such as a pre-commit hook is handed (py, js, yaml, md, ini)."""
    rng = random.Random(seed + 3)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("python", "javascript", "yaml", "markdown", "ini"):
        kind = KIND_BY_NAME[name]
        lines = [kind.line(rng) for _ in range(rng.randrange(40, 200))]
        path = out / f"changed{kind.ext}"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def iter_files(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield Path(dirpath, name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--out", type=Path, help="default ~/.cache/keyscan-bench/corpus-<size>mb-s<seed>")
    args = p.parse_args(argv)
    out = args.out or default_corpus_dir(args.size_mb, args.seed)
    t0 = time.perf_counter()
    manifest = ensure_corpus(out, args.size_mb, args.seed)
    print(f"{out / 'tree'}: {manifest['files']} files, {int(manifest['bytes']) / 1e6:.0f} MB, "
          f"planted {manifest['planted']} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
