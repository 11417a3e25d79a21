"""Which boto3 client methods a Lambda handler can reach: a static walk of the runtime's source.

The approximation (made for the code as it is written here, not for any Python; docs/security.md
compares it with the calls the end-to-end journeys make):

* Reach starts at the handler function. A reached function reaches every
  module-level function or class its body names (called or passed, e.g. a
  record handler given to Powertools), resolved through its module's
  imports; calling a class instantiates it (and reaches ``__init__``), and so
  does ``cls(...)`` inside a classmethod. The module-level statements of a
  reached function's module are reached too.
* A method call goes where the receiver's type says. Types come from
  annotations (parameters, dataclass and ``__init__`` fields, return types,
  ``list[X]`` holding ``X``), from assignments (``x = Class(...)``,
  ``self.x = Class(...)``, ``x = function()`` with a return annotation) and
  from the bodies of unannotated properties and ``cached_property`` pieces.
  That is how the composition root is followed: ``container()`` returns a
  ``Container``, ``.results`` is its piece, whose body builds
  ``ResultService`` with ``self.repository`` (the ``StateRepository`` piece).
  A receiver of an outside type (a ``Mapping`` parameter, a client's answer,
  ``json.loads(...)``, a ``Logger``) reaches nothing in the package.
* A receiver of unknown type, or typed by a ``Protocol`` (the services'
  ports), is dispatched by name: the method of that name of every class
  the walk has *instantiated* (its bases included) is reached; properties
  and ``cached_property`` pieces on reading the attribute. This
  over-approximates (a method named like one an unknown receiver calls is
  reached too) and never follows ``getattr`` with computed names.
* A *client expression* is a call whose callee's name contains ``client``
  (``aws.client``, ``aws.LazyClient``, ``boto3.client``, ``Session().client``,
  an injected ``client_factory``) with a botocore service name as its first,
  literal, argument; a local variable or a ``self`` attribute assigned one
  (in a method or the class body, ``LazyClient`` descriptors included) and a
  property returning one. Every method called on a client expression is a
  call; ``get_paginator("x")`` and ``get_waiter("y")`` are calls of ``x`` and
  of ``y``'s operation. A client handed to code outside the package is a call
  of what :data:`iam_actions.LIBRARY_CALLS` says that code calls, else an
  *unresolved* use (a failure: the table must learn it). So are a method
  called straight on a client of a computed service name and a boto3
  ``resource(...)``, which the walk does not follow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from iam_actions import LIBRARY_CALLS, botocore_services

PAGINATOR_METHODS = ("get_paginator", "can_paginate")
CLIENT_META = frozenset({"meta", "exceptions", "close", "get_waiter", *PAGINATOR_METHODS})
CONSTRUCTION = ("__init__", "__post_init__")


@dataclass(frozen=True, order=True)
class Call:
    service: str
    method: str     # the client method, e.g. put_object; waiters as waiter:<name>
    site: str       # module:function where it is made


@dataclass(eq=False)
class FunctionDef:
    module: str
    qualname: str            # "func" or "Class.method"
    node: ast.AST
    cls: "ClassDef | None" = None

    def is_property(self) -> bool:
        decorators = getattr(self.node, "decorator_list", [])
        return bool({_terminal_name(d) for d in decorators} & {"property", "cached_property"})


@dataclass(eq=False)
class ClassDef:
    module: str
    name: str
    node: ast.ClassDef
    methods: dict[str, FunctionDef] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)   # attribute -> service
    bases: list["ClassDef"] = field(default_factory=list)
    fields: dict[str, ast.AST] = field(default_factory=dict)   # attribute -> annotation

    def is_protocol(self) -> bool:
        return any(_terminal_name(base) == "Protocol" for base in self.node.bases)

    def lineage(self) -> list["ClassDef"]:
        seen, order = set(), []
        stack = [self]
        while stack:
            current = stack.pop(0)
            if id(current) not in seen:
                seen.add(id(current))
                order.append(current)
                stack += current.bases
        return order

    def client_of(self, attribute: str) -> str | None:
        return next((c.clients[attribute] for c in self.lineage() if attribute in c.clients), None)


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)   # local name -> dotted target
    functions: dict[str, FunctionDef] = field(default_factory=dict)
    classes: dict[str, ClassDef] = field(default_factory=dict)
    globals: dict[str, "Type"] | None = None


FOREIGN = "foreign"    # a value of a type outside the package (dict, str, datetime, ...): never dispatched on
Type = "frozenset[ClassDef] | str | None"   # package classes, FOREIGN, or unknown (None)
FOREIGN_TYPES = frozenset({
    "dict", "Dict", "Mapping", "MutableMapping", "list", "List", "Sequence", "Iterable", "Iterator", "tuple",
    "Tuple", "set", "Set", "frozenset", "FrozenSet", "str", "bytes", "int", "float", "bool", "Decimal",
    "datetime", "date", "timedelta", "Callable", "MappingProxyType", "Path", "SQSRecord", "Response",
    "Logger", "Lock", "RLock"})
FOREIGN_CALLS = frozenset({"len", "repr", "isinstance", "range", "sum", "any", "all", "round", "abs"})


def _union(left: Type, right: Type) -> Type:
    if left is None or right is None:
        return None
    if left == FOREIGN:
        return right
    if right == FOREIGN:
        return left
    return left | right


def _annotations(node: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    for item in ast.walk(node):
        if isinstance(item, ast.arg) and item.annotation is not None:
            found.append(item.annotation)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.returns is not None:
            found.append(item.returns)
        elif isinstance(item, ast.AnnAssign):
            found.append(item.annotation)
    return found


@dataclass
class _Walk:
    done: set[int] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    instantiated: dict[str, "ClassDef"] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)

    def instantiate(self, cls: "ClassDef") -> None:
        self.instantiated.setdefault(f"{cls.module}.{cls.name}", cls)


@dataclass
class Reach:
    calls: set[Call] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)


def handler_reference(handler: str) -> tuple[str, str]:
    """``orchestrator.handlers.receivers.creation_receiver`` -> (module, function)."""
    module, _, name = handler.rpartition(".")
    if not module:
        raise ValueError(f"handler {handler!r}: expected <module>.<function>")
    return module, name


def _terminal_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _terminal_name(node.func)
    return ""


class CallIndex:
    """The runtime package, parsed once; :meth:`reach` walks it from one handler."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.services = botocore_services()
        self.modules: dict[str, Module] = {}
        self.packages = {p.name for p in self.root.iterdir() if (p / "__init__.py").exists()}
        for path in sorted(self.root.rglob("*.py")):
            parts = list(path.relative_to(self.root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            self._index(".".join(parts), path, is_package=path.name == "__init__.py")
        for module in self.modules.values():
            for cls in module.classes.values():
                cls.bases = [b for b in (self._resolve_class(module, base) for base in cls.node.bases) if b]
        for _ in range(3):   # properties returning a client attribute, assigned in another method
            for module in self.modules.values():
                for cls in module.classes.values():
                    self._find_client_attributes(cls)

    # ------------------------------------------------------------- indexing

    def _index(self, name: str, path: Path, *, is_package: bool) -> None:
        tree = ast.parse(path.read_text(), filename=str(path))
        module = Module(name, tree)
        package = name if is_package else name.rpartition(".")[0]
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions[node.name] = FunctionDef(name, node.name, node)
            elif isinstance(node, ast.ClassDef):
                cls = ClassDef(name, node.name, node)
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        cls.methods[item.name] = FunctionDef(name, f"{node.name}.{item.name}", item, cls)
                module.classes[node.name] = cls
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        cls.fields[item.target.id] = item.annotation
                init = cls.methods.get("__init__")
                if init is not None:
                    parameters = {a.arg: a.annotation for a in init.node.args.args + init.node.args.kwonlyargs}
                    for item in ast.walk(init.node):
                        if isinstance(item, ast.Assign) and len(item.targets) == 1 and \
                                isinstance(item.targets[0], ast.Attribute) and _is_self(item.targets[0].value) \
                                and isinstance(item.value, ast.Name) and parameters.get(item.value.id) is not None:
                            cls.fields.setdefault(item.targets[0].attr, parameters[item.value.id])
                        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Attribute) and \
                                _is_self(item.target.value):
                            cls.fields.setdefault(item.target.attr, item.annotation)
                        elif isinstance(item, ast.Assign) and len(item.targets) == 1 and \
                                isinstance(item.targets[0], ast.Attribute) and _is_self(item.targets[0].value) \
                                and isinstance(item.value, ast.Call):
                            cls.fields.setdefault(item.targets[0].attr, item.value.func)   # self.x = Class(...)
        for node in ast.walk(tree):   # function-level imports too (the composition root imports lazily)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = \
                        alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
        self.modules[name] = module

    def _lookup(self, dotted: str) -> Module | FunctionDef | ClassDef | None:
        if dotted in self.modules:
            return self.modules[dotted]
        owner, _, attribute = dotted.rpartition(".")
        module = self.modules.get(owner)
        if module is None:
            return None
        if attribute in module.functions:
            return module.functions[attribute]
        if attribute in module.classes:
            return module.classes[attribute]
        if attribute in module.imports and module.imports[attribute] != dotted:   # a re-export
            return self._lookup(module.imports[attribute])
        return None

    def resolve(self, module: Module, node: ast.AST) -> Module | FunctionDef | ClassDef | None:
        """What a name or a dotted attribute chain refers to inside the package."""
        if isinstance(node, ast.Name):
            if node.id in module.functions:
                return module.functions[node.id]
            if node.id in module.classes:
                return module.classes[node.id]
            if node.id in module.imports:
                return self._lookup(module.imports[node.id])
            return None
        if isinstance(node, ast.Attribute):
            owner = self.resolve(module, node.value)
            if isinstance(owner, Module):
                return self._lookup(f"{owner.name}.{node.attr}")
            if isinstance(owner, ClassDef):
                return next((c.methods[node.attr] for c in owner.lineage() if node.attr in c.methods), None)
        return None

    def _resolve_class(self, module: Module, node: ast.AST) -> ClassDef | None:
        found = self.resolve(module, node)
        return found if isinstance(found, ClassDef) else None

    def literal_service(self, call: ast.AST) -> str | None:
        """The service of a client-creating call (``aws.client("sts")``), else ``None``."""
        if not isinstance(call, ast.Call) or not call.args:
            return None
        first = call.args[0]
        if "client" in _terminal_name(call.func).lower() and isinstance(first, ast.Constant) \
                and isinstance(first.value, str) and first.value in self.services:
            return first.value
        return None

    def _find_client_attributes(self, cls: ClassDef) -> None:
        for item in cls.node.body:
            if isinstance(item, ast.Assign) and self.literal_service(item.value):
                for target in item.targets:
                    if isinstance(target, ast.Name):
                        cls.clients[target.id] = self.literal_service(item.value)
        for method in cls.methods.values():
            for node in ast.walk(method.node):
                if isinstance(node, ast.Assign):
                    service = self.literal_service(node.value)
                    for target in node.targets:
                        if service and isinstance(target, ast.Attribute) and _is_self(target.value):
                            cls.clients[target.attr] = service
            decorators = {_terminal_name(d) for d in method.node.decorator_list}
            if decorators & {"property", "cached_property"}:
                for node in ast.walk(method.node):
                    if isinstance(node, ast.Return) and node.value is not None:
                        service = self.literal_service(node.value) or (
                            cls.client_of(node.value.attr) if isinstance(node.value, ast.Attribute)
                            and _is_self(node.value.value) else None)
                        if service:
                            cls.clients[method.node.name] = service

    # ---------------------------------------------------------------- types

    def annotation_type(self, module: Module, node: ast.AST | None) -> Type:
        """The classes an annotation names (a Protocol or ``Any``: unknown; builtins, typing: foreign)."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            if node.value is None:
                return FOREIGN
            if isinstance(node.value, str):
                try:
                    return self.annotation_type(module, ast.parse(node.value, mode="eval").body)
                except SyntaxError:
                    return None
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _union(self.annotation_type(module, node.left), self.annotation_type(module, node.right))
        if isinstance(node, ast.Subscript):
            if _terminal_name(node.value) in ("Optional", "Union"):
                parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                found: Type = FOREIGN
                for part in parts:
                    found = _union(found, self.annotation_type(module, part))
                return found
            if _terminal_name(node.value) == "Callable":
                return FOREIGN
            # a container (list[X], Mapping[str, X]): the package classes it holds, else foreign
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            held = [self.annotation_type(module, part) for part in parts]
            classes = frozenset().union(*(t for t in held if isinstance(t, frozenset)))
            return classes or FOREIGN
        target = self.resolve(module, node)
        if isinstance(target, ClassDef):
            return None if target.is_protocol() else frozenset({target})
        if _terminal_name(node) in FOREIGN_TYPES:
            return FOREIGN
        return None

    def member_type(self, cls: ClassDef, attribute: str, depth: int) -> Type:
        """The type of ``cls``'s field or property ``attribute`` (annotation, else what it returns)."""
        for owner in cls.lineage():
            if attribute in owner.fields:
                return self.annotation_type(self.modules[owner.module], owner.fields[attribute])
            method = owner.methods.get(attribute)
            if method is not None and method.is_property():
                if method.node.returns is not None:
                    return self.annotation_type(self.modules[owner.module], method.node.returns)
                if depth > 0:
                    returns = [n.value for n in ast.walk(method.node) if isinstance(n, ast.Return) and n.value]
                    found: Type = FOREIGN if returns else None
                    for value in returns:
                        found = _union(found, self.type_of(self.modules[owner.module], method, {}, value,
                                                           depth - 1))
                    return found
        return None

    def type_of(self, module: Module, function: "FunctionDef", local: dict[str, Type], node: ast.AST,
                depth: int = 4) -> Type:
        """What ``node`` evaluates to, as far as the annotations and assignments tell."""
        if isinstance(node, (ast.Dict, ast.List, ast.Set, ast.Tuple, ast.Constant, ast.JoinedStr, ast.ListComp,
                             ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.Compare)):
            return FOREIGN
        if isinstance(node, ast.Name):
            if node.id == "self" and function.cls is not None:
                return frozenset({function.cls})
            if node.id in local:
                return local[node.id]
            if self.external(module, node):
                return FOREIGN
            return self.global_types(module).get(node.id) if function.qualname != "<module>" else None
        if isinstance(node, ast.IfExp):
            return _union(self.type_of(module, function, local, node.body, depth),
                          self.type_of(module, function, local, node.orelse, depth))
        if isinstance(node, ast.Attribute):
            if self.external(module, node):
                return FOREIGN
            owner = self.type_of(module, function, local, node.value, depth)
            if owner == FOREIGN:
                return FOREIGN
            if owner and depth > 0:
                found: Type = FOREIGN
                for cls in owner:
                    found = _union(found, self.member_type(cls, node.attr, depth - 1))
                return found
            return None
        if isinstance(node, ast.Subscript):
            return FOREIGN if self.type_of(module, function, local, node.value, depth) == FOREIGN else None
        if isinstance(node, ast.BoolOp):
            found = FOREIGN
            for value in node.values:
                found = _union(found, self.type_of(module, function, local, value, depth))
            return found
        if isinstance(node, ast.Call):
            if self.literal_service(node):
                return None      # a client: its methods are calls (client_service), not dispatched
            if isinstance(node.func, ast.Attribute) and self.client_service(node.func.value, function, {}):
                return FOREIGN   # a client's answer: a dict
            if self.external(module, node.func):
                return FOREIGN   # json.loads, datetime.now, Logger(), ...
            target = self.resolve(module, node.func)
            if isinstance(target, ClassDef):
                return frozenset({target})
            if isinstance(target, FunctionDef):
                return self.annotation_type(self.modules[target.module], target.node.returns)
            if isinstance(node.func, ast.Name) and node.func.id in FOREIGN_TYPES | FOREIGN_CALLS:
                return FOREIGN
            if isinstance(node.func, ast.Attribute):
                owner = self.type_of(module, function, local, node.func.value, depth)
                if owner == FOREIGN:
                    return FOREIGN
                if owner:
                    found = FOREIGN
                    for cls in owner:
                        method = next((c.methods[node.func.attr] for c in cls.lineage()
                                       if node.func.attr in c.methods), None)
                        found = _union(found, self.annotation_type(self.modules[method.module], method.node.returns)
                                       if method else None)
                    return found
        return None

    def external(self, module: Module, node: ast.AST) -> bool:
        """Whether a name or attribute chain starts at an import from outside the package."""
        while isinstance(node, ast.Attribute):
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in module.imports:
            return False
        target = module.imports[node.id]
        return target.split(".")[0] not in self.packages

    def global_types(self, module: Module) -> dict[str, Type]:
        if module.globals is None:
            module.globals = {}
            top = FunctionDef(module.name, "<module>", ast.Module(body=[
                n for n in module.tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))], type_ignores=[]))
            module.globals = self.local_types(module, top)
        return module.globals

    def local_types(self, module: Module, function: "FunctionDef") -> dict[str, Type]:
        local: dict[str, Type] = {}
        node = function.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for argument in arguments:
                local[argument.arg] = self.annotation_type(module, argument.annotation)
            if function.cls is not None and arguments and "classmethod" in \
                    {_terminal_name(d) for d in node.decorator_list}:
                local[arguments[0].arg] = None
        for _ in range(2):
            for item in ast.walk(node):
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                    local[item.targets[0].id] = self.type_of(module, function, local, item.value)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    local[item.target.id] = self.annotation_type(module, item.annotation)
                elif isinstance(item, (ast.For, ast.comprehension)) and isinstance(item.target, ast.Name):
                    # the elements of a list[X] are typed X (see annotation_type); of a foreign value, foreign
                    local[item.target.id] = self.type_of(module, function, local, item.iter)
        return local

    # ------------------------------------------------------------- reaching

    def every_call(self) -> set[Call]:
        """Every client call written anywhere in the package (reached or not): the walk's yardstick."""
        found = Reach()
        for module in self.modules.values():
            functions = list(module.functions.values()) + \
                [m for c in module.classes.values() for m in c.methods.values()]
            for function in functions:
                self._scan(module, function, found, _Walk(), [])
        return found.calls

    def reach(self, module_name: str, function_name: str) -> Reach:
        module = self.modules.get(module_name)
        if module is None or function_name not in module.functions:
            raise ValueError(f"handler {module_name}.{function_name}: no such function under {self.root}")
        reach = Reach()
        state = _Walk()
        work: list[FunctionDef] = [module.functions[function_name]]
        while work:
            while work:
                function = work.pop()
                if id(function.node) in state.done:
                    continue
                state.done.add(id(function.node))
                reach.functions.add(f"{function.module}:{function.qualname}")
                owner = self.modules[function.module]
                self._scan(owner, function, reach, state, work)
                if owner.name not in state.modules:
                    state.modules.add(owner.name)
                    top = [n for n in owner.tree.body
                           if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
                    work.append(FunctionDef(owner.name, "<module>", ast.Module(body=top, type_ignores=[])))
            for cls in list(state.instantiated.values()):
                for ancestor in cls.lineage():
                    for name, method in ancestor.methods.items():
                        wanted = name in CONSTRUCTION or name in state.called or \
                            (method.is_property() and name in state.read)
                        if wanted and id(method.node) not in state.done:
                            work.append(method)
        return reach

    def _scan(self, module: Module, function: FunctionDef, reach: Reach, state: "_Walk",
              work: list[FunctionDef]) -> None:
        site = f"{module.name}:{function.qualname}"
        local = self.local_types(module, function)
        local_clients: dict[str, str] = {}
        for node in ast.walk(function.node):
            if isinstance(node, ast.Assign):
                service = self.client_service(node.value, function, local_clients)
                for target in node.targets:
                    if service and isinstance(target, ast.Name):
                        local_clients[target.id] = service
        annotations = {id(n) for a in _annotations(function.node) for n in ast.walk(a)}
        called = set()
        for node in ast.walk(function.node):
            if isinstance(node, ast.Call):
                called.add(id(node.func))
                called.update(id(a) for a in node.args)
                called.update(id(k.value) for k in node.keywords)
        for node in ast.walk(function.node):
            if id(node) in annotations:
                continue
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                target = self.resolve(module, node)
                if isinstance(target, FunctionDef):
                    work.append(target)
                elif isinstance(target, ClassDef) and id(node) in called:
                    state.instantiate(target)
                elif isinstance(node, ast.Attribute) and target is None:
                    self._attribute(module, function, local, node, id(node) in called, state, work)
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "cls" and function.cls is not None:
                state.instantiate(function.cls)
            if isinstance(node.func, ast.Attribute):
                service = self.client_service(node.func.value, function, local_clients)
                if service:
                    self._record(service, node, site, reach)
                elif self._computed_client(node.func.value):
                    reach.unresolved.add(f"{site}: {node.func.attr} on a client of a computed service name")
            if _terminal_name(node.func) == "resource" and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in self.services:
                reach.unresolved.add(f"{site}: a boto3 resource ({node.args[0].value}) is not followed; use a client")
            self._handed_over(module, node, function, local_clients, site, reach)

    def _attribute(self, module: Module, function: FunctionDef, local: dict[str, Type], node: ast.Attribute,
                   called: bool, state: "_Walk", work: list[FunctionDef]) -> None:
        """``receiver.name``: the method or property of a typed receiver, else dispatch by name later."""
        if self.client_service(node.value, function, {}) is not None:
            return
        owner = self.type_of(module, function, local, node.value)
        if owner == FOREIGN:
            return
        if owner:
            for cls in owner:
                method = next((c.methods[node.attr] for c in cls.lineage() if node.attr in c.methods), None)
                if method is not None and (called or method.is_property()):
                    work.append(method)
            return
        (state.called if called else state.read).add(node.attr)

    def _computed_client(self, node: ast.AST) -> bool:
        """``client(name)(...)``-like: a client-creating call whose service is not a literal."""
        return isinstance(node, ast.Call) and "client" in _terminal_name(node.func).lower() and bool(node.args) \
            and not isinstance(node.args[0], ast.Constant) and "factory" not in _terminal_name(node.func).lower()

    def _record(self, service: str, node: ast.Call, site: str, reach: Reach) -> None:
        method = node.func.attr
        argument = node.args[0] if node.args else None
        literal = argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None
        if method in PAGINATOR_METHODS or method == "get_waiter":
            if literal is None:
                reach.unresolved.add(f"{site}: {service}.{method} of a computed name")
            else:
                reach.calls.add(Call(service, literal if method != "get_waiter" else f"waiter:{literal}", site))
        elif method not in CLIENT_META:
            reach.calls.add(Call(service, method, site))

    def _handed_over(self, module: Module, node: ast.Call, function: FunctionDef, local_clients: dict[str, str],
                     site: str, reach: Reach) -> None:
        """A client passed to a callable outside the package: what that library calls with it."""
        arguments = list(node.args) + [keyword.value for keyword in node.keywords]
        services = {s for s in (self.client_service(a, function, local_clients) for a in arguments) if s}
        if not services or self.resolve(module, node.func) is not None:
            return
        callee = _terminal_name(node.func)
        for service in sorted(services):
            known = LIBRARY_CALLS.get((callee, service))
            if known is None:
                reach.unresolved.add(f"{site}: a {service} client handed to {callee}()")
            else:
                reach.calls.update(Call(service, method, f"{site} via {callee}") for method in known)

    def client_service(self, node: ast.AST, function: FunctionDef, local_clients: dict[str, str]) -> str | None:
        """The service of a client expression (see the module's docstring), else ``None``."""
        if isinstance(node, ast.Call):
            return self.literal_service(node)
        if isinstance(node, ast.Name):
            return local_clients.get(node.id)
        if isinstance(node, ast.Attribute) and _is_self(node.value) and function.cls is not None:
            return function.cls.client_of(node.attr)
        return None


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"
