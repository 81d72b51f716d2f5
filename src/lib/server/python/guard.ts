/**
 * The server's Python-side guard, loaded after the harness in each worker. The harness already runs
 * every submission as a fresh `__main__`; this adds what a shared grader needs on top:
 * - an audit hook that refuses sockets, subprocesses, `ctypes`, the JS bridges (`js`, `pyodide`),
 *   scanning the heap with `gc`, and adding further audit hooks;
 * - `_tutor_guarded_check`, which runs `_tutor_check`, then puts back what a program may have changed
 *   for the next one (imported modules and their contents, import machinery, recursion limit) and reports
 *   whether the grader's own functions and modules are still the ones it started with. When they are
 *   not, the result cannot be trusted and the worker is replaced.
 */
export const GUARD_PY = String.raw`
import sys as _tutor_gsys
import json as _tutor_gjson
from operator import is_ as _tutor_is

_TUTOR_BLOCKED_IMPORTS = ("js", "pyodide", "pyodide_js", "_pyodide", "_pyodide_core", "ctypes", "_ctypes", "socket", "_socket", "ssl", "_ssl", "subprocess", "select", "micropip")
for _tutor_name in list(_tutor_gsys.modules):
    if _tutor_name.split(".")[0] in _TUTOR_BLOCKED_IMPORTS:
        del _tutor_gsys.modules[_tutor_name]
_TUTOR_BLOCKED_EVENTS = ("sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.kill", "ctypes.", "sys.settrace", "sys.setprofile", "sys._current_frames")


def _tutor_audit(event, args):
    if event == "import":
        if str(args[0]).split(".")[0] in _TUTOR_BLOCKED_IMPORTS:
            raise RuntimeError("import of %s is not allowed when the server checks code" % args[0])
        return
    for blocked in _TUTOR_BLOCKED_EVENTS:
        if event.startswith(blocked):
            raise RuntimeError("%s is not allowed when the server checks code" % event)


_tutor_gsys.addaudithook(_tutor_audit)

_TUTOR_MODULES = set(_tutor_gsys.modules)
_TUTOR_IMPORT_STATE = (list(_tutor_gsys.meta_path), list(_tutor_gsys.path_hooks), list(_tutor_gsys.path), dict(_tutor_gsys.path_importer_cache))
_TUTOR_RECURSION = _tutor_gsys.getrecursionlimit()
_TUTOR_SYS_KEEP = ("stdout", "stderr", "stdin", "modules", "meta_path", "path_hooks", "path", "path_importer_cache")


def _tutor_module_state():
    """Every already-loaded module's names and values, to put back after each run."""
    state = []
    for name, module in list(_tutor_gsys.modules.items()):
        if name != "__main__" and name != "builtins" and hasattr(module, "__dict__"):
            saved = dict(module.__dict__)
            state.append((name, module, saved, list(saved), list(saved.values())))
    return state


def _tutor_watched():
    """The grader's own names and the modules it uses, by identity."""
    seen = {}
    for name, value in list(globals().items()):
        if (name.startswith("_tutor") or name.startswith("_TUTOR") or name == "ProgramError") and name != "_TUTOR_WATCHED":
            seen["main." + name] = value
    for module in (_tutor_gjson, _tutor_gjson.encoder, _tutor_gjson.decoder):
        for name, value in list(vars(module).items()):
            seen[module.__name__ + "." + name] = value
    for cls in (_tutor_gjson.JSONEncoder,):
        for name, value in list(vars(cls).items()):
            seen["JSONEncoder." + name] = value
    for name in ("stdout", "stderr", "stdin", "excepthook", "displayhook", "audit", "modules"):
        seen["sys." + name] = getattr(_tutor_gsys, name)
    return seen


def _tutor_restore():
    for name in [name for name in _tutor_gsys.modules if name not in _TUTOR_MODULES]:
        del _tutor_gsys.modules[name]
    for name, module, saved, keys, values in _TUTOR_MODULE_STATE:
        _tutor_gsys.modules[name] = module
        current = module.__dict__
        # The usual case, compared by identity at C speed (never with ==, which a program's
        # objects could answer however they like).
        if len(current) == len(keys) and all(map(_tutor_is, current, keys)) and all(map(_tutor_is, current.values(), values)):
            continue
        for key in [key for key in current if key not in saved]:
            del current[key]
        for key, value in saved.items():
            if (name != "sys" or key not in _TUTOR_SYS_KEEP) and current.get(key, _tutor_restore) is not value:
                current[key] = value
    meta, hooks, path, cache = _TUTOR_IMPORT_STATE
    _tutor_gsys.meta_path[:] = meta
    _tutor_gsys.path_hooks[:] = hooks
    _tutor_gsys.path[:] = path
    _tutor_gsys.path_importer_cache.clear()
    _tutor_gsys.path_importer_cache.update(cache)
    _tutor_gsys.setrecursionlimit(_TUTOR_RECURSION)


def _tutor_intact():
    now = _tutor_watched()
    return now.keys() == _TUTOR_WATCHED.keys() and all(now[k] is _TUTOR_WATCHED[k] for k in now)


def _tutor_guard(check, intact, restore):
    # The functions are bound here, so a program that rebinds the global names changes nothing.
    def _tutor_guarded_check(code, checks):
        trusted = False
        text = ""
        try:
            text = check(code, checks)
            trusted = intact()
        finally:
            restore()
        return text if trusted else ""

    return _tutor_guarded_check


_tutor_guarded_check = _tutor_guard(_tutor_check, _tutor_intact, _tutor_restore)

_TUTOR_MODULE_STATE = _tutor_module_state()
_TUTOR_WATCHED = _tutor_watched()
`;
