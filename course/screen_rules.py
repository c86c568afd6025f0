"""The rules of the answer-cell screen (screen.py): what sends a submission to a human.

The sandbox stops a kernel from reaching the gradebook or other submissions, but code in
an answer cell can still try to game its own grade from inside the kernel. Each rule
below names a capability no answer in these labs needs; a match is not a verdict, only a
reason for an instructor to read the cell. Rules work on the syntax tree (after IPython
has turned magics and shell escapes into the Python it would run); a cell that still
does not parse is matched by text patterns instead. Fail-closed: when in doubt, flag.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

#: rule id -> what it means, for reports
RULES = {
    "dynamic-code": "runs code built at run time (exec, eval, compile, __import__, runpy, code objects)",
    "encoded-payload": "hex, base64 or escaped text, character codes, or an encoding module",
    "ipython": "reaches into IPython (get_ipython, magics, shell escapes, history, exit)",
    "import-machinery": "changes how imports work (importlib, sys.modules, sys.path, meta path)",
    "interpreter-internals": "reaches interpreter internals (builtins, frames, dunder attributes, "
                             "setattr, globals(), comparison overrides, shadowed names)",
    "database": "opens a database or grading tool (sqlite3, nbgrader, the gradebook)",
    "native-code": "loads native code or changes the process (ctypes, mmap, resource)",
    "process-signal-network": "processes, threads, signals, exits or the network "
                              "(os, subprocess, signal, threading, socket)",
    "file-write": "writes, moves or deletes files",
    "kit-patch": "assigns into a module or a kit object (monkeypatching)",
    "kit-internals": "uses the kit's grader, or imports from the kit what the lab does not give",
    "kit-reference": "uses the kit's own implementation of something the lab asks you to write",
}

MODULE_RULES = {
    **dict.fromkeys(("code", "codeop", "runpy"), "dynamic-code"),
    **dict.fromkeys(("base64", "binascii", "codecs", "zlib", "gzip", "bz2", "lzma", "marshal",
                     "pickle", "dill", "zipfile", "tarfile", "quopri", "uu"), "encoded-payload"),
    **dict.fromkeys(("IPython", "ipykernel", "jupyter_client", "traitlets", "comm"), "ipython"),
    **dict.fromkeys(("importlib", "imp", "pkgutil", "zipimport", "site", "sysconfig"),
                    "import-machinery"),
    **dict.fromkeys(("builtins", "__builtin__", "inspect", "gc", "weakref", "dis", "ast",
                     "tracemalloc", "sys._getframe"), "interpreter-internals"),
    **dict.fromkeys(("sqlite3", "dbm", "shelve", "sqlalchemy", "nbgrader", "nbformat",
                     "nbclient", "nbconvert"), "database"),
    **dict.fromkeys(("ctypes", "_ctypes", "cffi", "mmap", "resource", "fcntl", "pty", "termios"),
                    "native-code"),
    **dict.fromkeys(("subprocess", "signal", "multiprocessing", "threading", "_thread",
                     "concurrent", "asyncio", "sched", "atexit", "faulthandler", "socket", "ssl",
                     "http", "urllib", "requests", "ftplib", "smtplib", "webbrowser", "xmlrpc",
                     "telnetlib", "selectors", "select", "os", "posix", "nt", "_posixsubprocess",
                     "sys.exit"), "process-signal-network"),
    **dict.fromkeys(("shutil", "tempfile", "io.open", "_io", "fileinput"), "file-write"),
    **dict.fromkeys(("simkit.grading",), "kit-internals"),
    **dict.fromkeys(("types.FunctionType", "types.CodeType", "types.ModuleType", "types.MethodType",
                     "types.LambdaType", "operator.attrgetter", "operator.methodcaller",
                     "functools.partial.__call__"), "interpreter-internals"),
    **dict.fromkeys(("sys.modules", "sys.meta_path", "sys.path", "sys.path_hooks",
                     "sys.path_importer_cache"), "import-machinery"),
    **dict.fromkeys(("sys.settrace", "sys.setprofile", "sys.addaudithook", "sys.excepthook",
                     "sys.displayhook", "sys.breakpointhook", "sys.unraisablehook",
                     "sys.setrecursionlimit", "sys.stdin"), "interpreter-internals"),
}
#: what of ``os`` and ``sys`` only reads harmless facts
SAFE = ("os.path", "os.getcwd", "os.cpu_count", "os.sep", "os.linesep", "os.getenv",
        "os.environ.get", "os.listdir", "os.getpid", "sys.version", "sys.version_info",
        "sys.float_info", "sys.maxsize", "sys.stdout", "sys.stderr", "sys.platform", "sys.int_info")

CALL_RULES = {
    **dict.fromkeys(("exec", "eval", "compile", "__import__", "breakpoint"), "dynamic-code"),
    **dict.fromkeys(("globals", "locals", "vars", "setattr", "delattr"), "interpreter-internals"),
    **dict.fromkeys(("get_ipython", "exit", "quit"), "ipython"),
    "chr": "encoded-payload",
}
ATTRIBUTE_RULES = {
    **dict.fromkeys(("__globals__", "__code__", "__closure__", "__dict__", "__class__", "__bases__",
                     "__mro__", "__subclasses__", "__getattribute__", "__func__", "__self__",
                     "__defaults__", "__kwdefaults__", "__wrapped__", "__builtins__", "__loader__",
                     "__spec__", "__import__", "f_globals", "f_locals", "f_back", "f_code",
                     "tb_frame", "gi_frame", "cr_frame", "__setattr__", "__delattr__"),
                    "interpreter-internals"),
    **dict.fromkeys(("input_transformers_cleanup", "input_transformers_post", "ast_transformers",
                     "set_custom_exc", "register_magic_function", "run_cell", "run_line_magic",
                     "run_cell_magic", "user_ns", "showtraceback", "events", "kernel",
                     "display_pub", "displayhook"), "ipython"),
    **dict.fromkeys(("fromhex", "b64decode", "b32decode", "b16decode", "a85decode", "unhexlify",
                     "decompress", "maketrans"), "encoded-payload"),
    # the commander game's answers: a scenario's reference plans, read instead of played
    **dict.fromkeys(("intended_plan", "INTENDED_PLAN", "reference_plan"), "kit-reference"),
    **dict.fromkeys(("write_text", "write_bytes", "touch", "unlink", "rmdir", "mkdir",
                     "chmod", "symlink_to", "hardlink_to", "savetxt", "savez",
                     "savez_compressed", "tofile", "to_csv", "to_pickle"), "file-write"),
}
#: methods that only write as a method of a path or numpy (``str.replace`` is harmless)
WRITE_METHODS_ON_MODULES = ("save",)
#: definitions that change how an object compares, converts or is looked at
PROTOCOL_METHODS = {
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__",
    "__float__", "__int__", "__index__", "__complex__", "__abs__", "__round__", "__sub__",
    "__rsub__", "__truediv__", "__rtruediv__", "__len__", "__getattr__", "__getattribute__",
    "__setattr__", "__del__", "__init_subclass__", "__instancecheck__", "__subclasscheck__",
    "__class_getitem__", "__set_name__", "__reduce__", "__reduce_ex__", "__getstate__",
    "__setstate__", "__array__", "__array_ufunc__", "__array_function__", "__format__",
    "__contains__", "__iter__", "__getitem__", "__isclose__",
}
IPYTHON_NAMES = {"In", "Out", "_ih", "_oh", "_dh", "_ii", "_iii", "__builtin__",
                 "__builtins__", "_exit_code"}
BUILTIN_NAMES = set(dir(builtins))

HEX_RE = re.compile(r"^(0x)?[0-9a-fA-F]{32,}$")
B64_RE = re.compile(r"^[A-Za-z0-9+/_-]{40,}={0,2}$")
ESCAPES_RE = re.compile(r"(\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\[0-7]{3}|\\N\{)")

#: cells that do not parse: (rule, pattern, what it matched)
TEXT_RULES = [
    ("dynamic-code", re.compile(r"\b(exec|eval|compile|__import__)\s*\("), "exec/eval/compile"),
    ("ipython", re.compile(r"get_ipython|^\s*[%!]|\bIPython\b", re.M), "IPython or a magic"),
    ("import-machinery", re.compile(r"\bimportlib\b|sys\s*\.\s*(modules|meta_path|path)\b"), "imports"),
    ("interpreter-internals", re.compile(r"__\w+__|\bbuiltins\b|\bsetattr\b|\bglobals\s*\("),
     "interpreter internals"),
    ("database", re.compile(r"sqlite3|gradebook|nbgrader", re.I), "a database"),
    ("native-code", re.compile(r"\bctypes\b|\bmmap\b"), "native code"),
    ("process-signal-network", re.compile(r"\bos\s*\.\s*(?!path\b)\w+|\bsubprocess\b|\bsignal\b|"
                                          r"\bsocket\b|\bthreading\b"), "os/subprocess/signal"),
    ("file-write", re.compile(r"\bopen\s*\(|write_text|write_bytes|\bshutil\b"), "file access"),
    ("encoded-payload", re.compile(r"base64|binascii|codecs|\bchr\s*\(|fromhex|[0-9a-fA-F]{32,}|"
                                   r"(\\x[0-9a-fA-F]{2}){3,}"), "an encoded payload"),
    ("kit-internals", re.compile(r"simkit\s*\.\s*grading|\bgrading\s*\.\s*_"), "the kit's grader"),
]


@dataclass
class Context:
    """What the screen knows about the lab: names its own cells import and define."""

    #: names bound by imports in the lab's own (locked) cells -> module path they stand for
    lab_imports: dict[str, str] = field(default_factory=dict)
    #: functions and classes the learner is asked to write (from the released stubs)
    answer_names: set[str] = field(default_factory=set)
    #: dotted names the lab's own cells use, e.g. "simkit.run"
    lab_text: str = ""


@dataclass(frozen=True)
class Match:
    rule: str
    line: int
    detail: str


def _dotted(node: ast.AST) -> list[str] | None:
    """["a", "b", "c"] for the expression a.b.c; None if it is not a plain chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


class _Screen(ast.NodeVisitor):
    """Collects rule matches in one cell's syntax tree."""

    def __init__(self, context: Context, aliases: dict[str, str]) -> None:
        self.context = context
        self.aliases = aliases  # names bound to modules or imported objects, cell to cell
        self.matches: list[Match] = []

    def flag(self, rule: str, node: ast.AST, detail: str) -> None:
        self.matches.append(Match(rule, getattr(node, "lineno", 1), detail))

    # -- what a dotted name stands for ---------------------------------------------------
    def resolve(self, parts: list[str]) -> str:
        root = self.aliases.get(parts[0], parts[0] if parts[0] in ("simkit",) else None)
        return ".".join([root, *parts[1:]]) if root else ""

    def check_path(self, path: str, node: ast.AST) -> None:
        """Flag a module or module attribute by its full dotted path."""
        if not path or any(path == s or path.startswith(s + ".") for s in SAFE):
            return
        for prefix, rule in MODULE_RULES.items():
            if path == prefix or path.startswith(prefix + "."):
                self.flag(rule, node, f"uses {path}")
                return
        if path.startswith("simkit."):
            self.check_kit(path, node)

    def check_kit(self, path: str, node: ast.AST) -> None:
        last = path.rsplit(".", 1)[-1]
        given = self.context.lab_imports.values()
        if last in self.context.answer_names:
            self.flag("kit-reference", node, f"uses the kit's {path}")
        elif path.count(".") >= 3 and path not in self.context.lab_text and not any(
                path == p or path.startswith(p + ".") for p in given):
            self.flag("kit-internals", node, f"reaches deep into the kit: {path}")

    # -- imports -----------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            path = alias.name if alias.asname else alias.name.split(".")[0]
            if alias.name not in ("os", "sys"):  # only what is used of these is flagged
                self.check_path(alias.name, node)
            self.check_new_kit_import(alias.name, node)
            if self.context.lab_imports.get(bound) != path:
                self.check_shadowing(bound, node, rebinding=True)
            self.aliases[bound] = path

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            path = f"{module}.{alias.name}"
            bound = alias.asname or alias.name
            if module not in ("os", "sys"):
                self.check_path(module, node)
            self.check_path(path, node)
            self.check_new_kit_import(path, node)
            if self.context.lab_imports.get(bound) != path:
                self.check_shadowing(bound, node, rebinding=True)
            self.aliases[bound] = path

    def check_new_kit_import(self, path: str, node: ast.AST) -> None:
        if path.split(".")[0] == "simkit" and path not in self.context.lab_imports.values():
            self.flag("kit-internals", node, f"imports {path}, which the lab's own cells do not")

    # -- names, attributes, calls --------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in IPYTHON_NAMES:
            self.flag("ipython" if node.id not in ("__builtins__", "__builtin__")
                      else "interpreter-internals", node, f"uses {node.id}")
        elif node.id in CALL_RULES:
            self.flag(CALL_RULES[node.id], node, f"uses {node.id}")
        elif node.id in self.aliases and isinstance(node.ctx, ast.Load):
            self.check_path(self.aliases[node.id], node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = _dotted(node)
        for attr in parts[1:] if parts else [node.attr]:
            if attr in ATTRIBUTE_RULES:
                self.flag(ATTRIBUTE_RULES[attr], node, f"uses .{attr}")
        if parts:
            path = self.resolve(parts)
            self.check_path(path, node)
            if path and node.attr in WRITE_METHODS_ON_MODULES:
                self.flag("file-write", node, f"calls {path}")
            if parts[0] == "grading" or "grading" in parts[1:-1]:
                self.flag("kit-internals", node, f"uses the grader: {'.'.join(parts)}")
            if not path and node.attr in self.context.answer_names and len(parts) > 2:
                self.flag("kit-reference", node, f"uses {'.'.join(parts)}")
            if isinstance(node.ctx, ast.Load):
                return  # the chain's inner attributes were checked as part of it
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            name = node.args[1]
            if not isinstance(name, ast.Constant):
                self.flag("interpreter-internals", node, "getattr with a computed name")
            elif str(name.value).startswith("__") or name.value in self.context.answer_names:
                self.flag("interpreter-internals", node, f"getattr(..., {name.value!r})")
        if isinstance(func, ast.Name) and func.id == "open" or (
                isinstance(func, ast.Attribute) and func.attr == "open"):
            self.check_open(node)
        self.generic_visit(node)

    def check_open(self, node: ast.Call) -> None:
        mode = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "mode"), None)
        if mode is None:
            return
        if not isinstance(mode, ast.Constant) or set(str(mode.value)) & set("wax+"):
            self.flag("file-write", node, "opens a file for writing")

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, (str, bytes)):
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            compact = text.strip()
            if HEX_RE.match(compact) or (B64_RE.match(compact) and re.search(r"\d", compact)
                                         and re.search(r"[a-z]", compact) and re.search(r"[A-Z]", compact)):
                self.flag("encoded-payload", node, f"a {len(compact)}-character encoded literal")
            if "gradebook" in text.lower() or "solutions/" in text:
                self.flag("database", node, "names the gradebook or solutions/")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
            self.flag("encoded-payload", node, "a huge integer literal")

    # -- definitions and assignments -------------------------------------------------------
    def check_shadowing(self, name: str, node: ast.AST, rebinding: bool) -> None:
        if name in self.context.lab_imports and name not in self.context.answer_names:
            self.flag("interpreter-internals", node, f"rebinds {name}, which the lab imports")
        elif rebinding and name in BUILTIN_NAMES:
            self.flag("interpreter-internals", node, f"replaces the built-in {name}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.check_shadowing(node.name, node, rebinding=True)
        if node.name in PROTOCOL_METHODS:
            self.flag("interpreter-internals", node, f"defines {node.name}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.check_shadowing(node.name, node, rebinding=True)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.check_targets(node.targets, node.value, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.check_targets([node.target], None, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.check_targets([node.target], node.value, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.check_targets(node.targets, None, node)
        self.generic_visit(node)

    def check_targets(self, targets: list[ast.AST], value: ast.AST | None, node: ast.AST) -> None:
        # `abs = fake`, `round = lambda ...`: a function put in a built-in's place (a value
        # such as `sum = 0` or `max = np.max(x)` only hides the built-in from the learner)
        callable_value = isinstance(value, (ast.Lambda, ast.Name, ast.Attribute))
        for target in targets:
            for element in ast.walk(target):
                if isinstance(element, ast.Name) and isinstance(element.ctx, (ast.Store, ast.Del)):
                    self.aliases.pop(element.id, None)
                    self.check_shadowing(element.id, node, rebinding=callable_value)
                elif isinstance(element, (ast.Attribute, ast.Subscript)):
                    root = element
                    while isinstance(root, (ast.Attribute, ast.Subscript)):
                        root = root.value
                    if isinstance(root, ast.Name) and (root.id in self.aliases or root.id in (
                            "simkit", "grading")):
                        what = self.aliases.get(root.id, root.id)
                        self.flag("kit-patch", node, f"assigns into {what}")
                        if what.split(".")[0] == "sys":
                            self.flag("interpreter-internals", node, f"changes {what}")
                    break


def screen_source(source: str, context: Context, aliases: dict[str, str]) -> list[Match]:
    """The rule matches in one cell's source; ``aliases`` carries imports from cell to cell."""
    python = _ipython_to_python(source)
    escapes = ESCAPES_RE.findall(source)
    matches = []
    if len(escapes) >= 3:
        line = source[: source.index(escapes[0])].count("\n") + 1
        matches.append(Match("encoded-payload", line, f"{len(escapes)} escaped characters"))
    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return matches + _text_matches(source)
    visitor = _Screen(context, aliases)
    visitor.visit(tree)
    return matches + visitor.matches


def _ipython_to_python(source: str) -> str:
    """The Python IPython would run for ``source`` (magics and ``!`` become calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # without IPython nothing transforms them; the text rules still see them
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 -- a cell IPython cannot read is matched as text
        return source


def _text_matches(source: str) -> list[Match]:
    found = []
    for rule, pattern, detail in TEXT_RULES:
        match = pattern.search(source)
        if match:
            found.append(Match(rule, source[: match.start()].count("\n") + 1,
                               f"(does not parse) mentions {detail}"))
    return found


def context_from_cells(locked_sources: list[str], stub_sources: list[str]) -> Context:
    """The lab's context from its released cells: the locked ones and the answer stubs."""
    lab_imports: dict[str, str] = {}
    for source in locked_sources:
        try:
            tree = ast.parse(_ipython_to_python(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    lab_imports[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    lab_imports[a.asname or a.name] = f"{node.module}.{a.name}"
    answers: set[str] = set()
    for source in stub_sources:
        try:
            tree = ast.parse(_ipython_to_python(source))
        except SyntaxError:
            continue
        answers |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return Context(lab_imports, answers, "\n".join(locked_sources))
