#!/usr/bin/python3
"""A linearizability checker for histories of ZooKeeper-style operations.

A history is a list of operations, each with the client that issued it, its
kind, the znode path (key) it touches, its arguments, the time it was invoked,
the time it completed (None if it never completed: it may or may not have taken
effect, so it may linearize anywhere after its invocation, or never) and the
result the client saw.

The check is the Wing & Gong search with Lowe's improvements, the one Knossos
and Porcupine use: the calls and returns of all operations sit in one list
ordered by time; at each point any operation whose call precedes the first
pending return may be linearized next if the model accepts it; the search
backtracks when it reaches a return whose operation was not yet linearized; and
every (set of linearized operations, model state) pair is searched at most once.
The search is iterative and bounded by a step count and a deadline, so a hard
history gives "unknown" instead of hanging.

Every operation touches one key and the model of one key does not depend on
the others, so each key is checked on its own (P-compositionality: a history is
linearizable iff each per-key sub-history is).

Standard library only. Run as a program on a JSON-lines file to check it:
    python3 linearizability.py HISTORY.jsonl
exit status 0 (linearizable), 1 (not linearizable), 2 (unknown, bad input).
"""

import argparse
import json
import sys
import threading
import time

INF = float("inf")

NONODE = "NONODE"
NODEEXISTS = "NODEEXISTS"
BADVERSION = "BADVERSION"
OK = "ok"
ERROR_CODES = (NONODE, NODEEXISTS, BADVERSION)


class _Any:
    """A result field the client did not record: any value matches."""

    def __repr__(self):
        return "?"


ANY = _Any()


# --------------------------------------------------------------------------
# Operations


class Op:
    """One operation of a history. `args` and `result` are the model's
    normalized forms (see Model.prepare); `raw_args`/`raw_result` are what the
    history said."""

    __slots__ = ("id", "client", "kind", "key", "args", "result", "invoke", "complete",
                 "raw_args", "raw_result")

    def __init__(self, id, client, kind, key, args, result, invoke, complete, raw_args,
                 raw_result):
        self.id = id
        self.client = client
        self.kind = kind
        self.key = key
        self.args = args
        self.result = result
        self.invoke = invoke
        self.complete = complete
        self.raw_args = raw_args
        self.raw_result = raw_result

    @property
    def indeterminate(self):
        return self.complete is None

    def to_dict(self):
        return {"id": self.id, "client": self.client, "kind": self.kind, "key": self.key,
                "args": self.raw_args, "invoke": self.invoke, "complete": self.complete,
                "result": self.raw_result}


def _norm_value(v):
    """Values are compared for equality and kept in hashed model states:
    bytes become str (reversibly), lists become tuples."""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "surrogateescape")
    if isinstance(v, (list, tuple)):
        return tuple(_norm_value(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm_value(x)) for k, x in v.items()))
    return v


def _jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "surrogateescape")
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def _norm_code(s):
    """'NoNode', 'no_node', 'NoNodeError' -> 'NONODE'; 'ok'/'OK' -> 'ok'."""
    c = "".join(ch for ch in str(s) if ch.isalpha()).upper()
    if c.endswith("ERROR") and c != "ERROR":
        c = c[:-len("ERROR")]
    if c == "OK":
        return OK
    return c


# --------------------------------------------------------------------------
# Models


class Model:
    """A sequential specification of one key. Subclass and override.

    init() returns the state of a key nobody has touched. step(state, op)
    returns (ok, new_state): ok is False when `op` with its recorded result
    cannot happen in `state`. For an indeterminate op (op.complete is None,
    op.result is None) any result is acceptable; step must return the state
    after the op took effect. States must be hashable and compared by value."""

    def init(self):
        return None

    def prepare(self, kind, args, result):
        """Validate and normalize (args, result) of one op; raise ValueError."""
        return args, result

    def step(self, state, op):
        raise NotImplementedError

    def read_only(self, op):
        """True if the op never changes the state (an indeterminate read-only
        op constrains nothing and is dropped)."""
        return False

    def describe_state(self, state):
        return repr(state)

    def describe_op(self, op):
        return f"{op.kind}({op.key!r}, {op.raw_args!r}) -> {op.raw_result!r}"

    def expected(self, state, op):
        """What the model says `op` would return in `state` (for messages)."""
        return "?"


class ZnodeModel(Model):
    """One znode with ZooKeeper semantics. The state is None (no node) or a
    tuple (value, version).

    Kinds, arguments and results (results are the string codes NONODE,
    NODEEXISTS, BADVERSION or an ok form):
      create  {value}            -> "ok" (or the created path) | NODEEXISTS
      set     {value, version}   -> {"version": n} (or n, or "ok") | NONODE | BADVERSION
      get     {}                 -> {"value": v, "version": n} (or [v, n]) | NONODE
      sync_get                   same as get
      delete  {version}          -> "ok" | NONODE | BADVERSION
    Expected version -1 (the default) matches any version. A create's version
    is 0, each successful set adds 1, a delete then create starts again at 0.
    A create answered NONODE (missing parent) concerns another key and is
    accepted in any state without effect.
    Arguments may also be given positionally: create [value], set [value,
    version], delete [version]."""

    KINDS = ("create", "set", "get", "sync_get", "delete")

    def prepare(self, kind, args, result):
        if kind not in self.KINDS:
            raise ValueError(f"unknown op kind {kind!r} (expected one of {self.KINDS})")
        a = {}
        if args is None:
            args = {}
        if isinstance(args, (list, tuple)):
            names = {"create": ["value"], "set": ["value", "version"],
                     "delete": ["version"]}.get(kind, [])
            if len(args) > len(names):
                raise ValueError(f"{kind}: too many arguments {args!r}")
            args = dict(zip(names, args))
        if not isinstance(args, dict):
            raise ValueError(f"{kind}: arguments must be a dict or list, not {args!r}")
        if kind in ("create", "set"):
            if "value" not in args:
                raise ValueError(f"{kind}: missing argument 'value'")
            a["value"] = _norm_value(args["value"])
        if kind in ("set", "delete"):
            v = args.get("version", -1)
            if v is None:
                v = -1
            if not isinstance(v, int):
                raise ValueError(f"{kind}: expected version must be an int, not {v!r}")
            a["version"] = v
        return a, (None if result is None else self._prepare_result(kind, result))

    def _prepare_result(self, kind, r):
        # Normalized form: (code, value, version); value/version ANY when unrecorded.
        if isinstance(r, str):
            code = _norm_code(r)
            if code in ERROR_CODES:
                allowed = {"create": (NODEEXISTS, NONODE), "set": (NONODE, BADVERSION),
                           "get": (NONODE,), "sync_get": (NONODE,),
                           "delete": (NONODE, BADVERSION)}[kind]
                if code not in allowed:
                    raise ValueError(f"{kind} cannot return {code}")
                return (code, ANY, ANY)
            if code == OK or (kind == "create" and r.startswith("/")):
                return (OK, ANY, ANY)
            raise ValueError(f"{kind}: unknown result {r!r}")
        if kind == "set":
            if isinstance(r, bool):
                raise ValueError(f"set: bad result {r!r}")
            if isinstance(r, int):
                return (OK, ANY, r)
            if isinstance(r, dict):
                return (OK, ANY, r.get("version", ANY))
        if kind in ("get", "sync_get"):
            if isinstance(r, (list, tuple)) and len(r) == 2:
                return (OK, _norm_value(r[0]), ANY if r[1] is None else r[1])
            if isinstance(r, dict) and "value" in r:
                v = r.get("version", ANY)
                return (OK, _norm_value(r["value"]), ANY if v is None else v)
        if kind in ("create", "delete") and isinstance(r, dict):
            code = _norm_code(r.get("rc", OK))
            if code == OK:
                return (OK, ANY, ANY)
        raise ValueError(f"{kind}: unknown result {r!r}")

    def read_only(self, op):
        return op.kind in ("get", "sync_get")

    def outcome(self, state, op):
        """What `op` does in `state`, whatever its recorded result:
        (result code, returned value, returned version, new state); ANY
        where the operation returns nothing."""
        kind, a = op.kind, op.args
        if kind == "create":
            if state is not None:
                return NODEEXISTS, ANY, ANY, state
            return OK, ANY, 0, (a["value"], 0)
        if kind == "set":
            if state is None:
                return NONODE, ANY, ANY, state
            if a["version"] != -1 and a["version"] != state[1]:
                return BADVERSION, ANY, ANY, state
            return OK, ANY, state[1] + 1, (a["value"], state[1] + 1)
        if kind == "delete":
            if state is None:
                return NONODE, ANY, ANY, state
            if a["version"] != -1 and a["version"] != state[1]:
                return BADVERSION, ANY, ANY, state
            return OK, ANY, ANY, None
        # get, sync_get
        if state is None:
            return NONODE, ANY, ANY, state
        return OK, state[0], state[1], state

    def step(self, state, op):
        r = op.result
        if r is not None and op.kind == "create" and r[0] == NONODE:
            return True, state  # the parent was missing: not this key's business
        code, value, version, new = self.outcome(state, op)
        if r is None:
            return True, new
        if r[0] != code:
            return False, state
        if r[1] is not ANY and r[1] != value:
            return False, state
        if r[2] is not ANY and r[2] != version:
            return False, state
        return True, new

    def describe_state(self, state):
        if state is None:
            return "(no node)"
        return f"(value={state[0]!r}, version={state[1]})"

    def describe_op(self, op):
        a = op.args
        if op.kind == "create":
            call = f"create({op.key}, {a['value']!r})"
        elif op.kind == "set":
            call = f"set({op.key}, {a['value']!r}, version={a['version']})"
        elif op.kind == "delete":
            call = f"delete({op.key}, version={a['version']})"
        else:
            call = f"{op.kind}({op.key})"
        return f"{call} -> {self._describe_result(op.result)}"

    def _describe_result(self, r):
        if r is None:
            return "indeterminate"
        code, value, version = r
        if code != OK:
            return code
        parts = []
        if value is not ANY:
            parts.append(repr(value))
        if version is not ANY:
            parts.append(f"version={version}")
        return "ok" + (f"({', '.join(parts)})" if parts else "")

    def expected(self, state, op):
        code, value, version, _ = self.outcome(state, op)
        return self._describe_result((code, value, version))


# --------------------------------------------------------------------------
# History construction and I/O


def make_ops(history, model=None):
    """Turns a list of op dicts (or Op objects) into Op objects, validated and
    normalized by `model`. Raises ValueError naming the bad op.

    Op dict fields: client (or process), kind, key (or path), args, invoke,
    complete (None: indeterminate), result; optional id (defaults to the
    index), failed (True: the op definitely did not take effect, dropped).
    A completed op with result None is treated as indeterminate."""
    model = model or ZnodeModel()
    ops = []
    for index, h in enumerate(history):
        if isinstance(h, Op):
            h = h.to_dict()
        try:
            if h.get("failed"):
                continue
            kind = h["kind"]
            key = h["key"] if "key" in h else h["path"]
            invoke = h["invoke"]
            complete = h.get("complete")
            raw_result = h.get("result")
            if raw_result is None:
                complete = None
            if isinstance(invoke, bool) or not isinstance(invoke, (int, float)):
                raise ValueError(f"invoke time must be a number, not {invoke!r}")
            if complete is not None:
                if isinstance(complete, bool) or not isinstance(complete, (int, float)):
                    raise ValueError(f"complete time must be a number or null, not {complete!r}")
                if complete < invoke:
                    raise ValueError(f"completes ({complete}) before it is invoked ({invoke})")
            raw_args = h.get("args")
            args, result = model.prepare(kind, raw_args, raw_result)
            if complete is None:
                result = None
            ops.append(Op(h.get("id", index), h.get("client", h.get("process")), kind, key,
                          args, result, invoke, complete, raw_args, raw_result))
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"op {index} ({h!r}): {detail}") from None
    return ops


def load_history(path):
    """Reads a JSON-lines history: one op dict per line; blank lines and lines
    starting with '#' are skipped."""
    ops = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                ops.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: {e}") from None
    return ops


def dump_history(ops, path):
    """Writes op dicts (or Op objects) as JSON lines; bytes become str."""
    with open(path, "w", encoding="utf-8") as f:
        for op in ops:
            if isinstance(op, Op):
                op = op.to_dict()
            f.write(json.dumps(_jsonable(op), sort_keys=True) + "\n")


# --------------------------------------------------------------------------
# The search


class _Outcome:
    __slots__ = ("status", "steps", "best", "best_state", "stuck")

    def __init__(self, status, steps, best=None, best_state=None, stuck=None):
        self.status = status  # True, False or None (bound reached)
        self.steps = steps
        self.best = best  # track mode: longest linearization found (op indexes)
        self.best_state = best_state
        self.stuck = stuck  # track mode: candidate op indexes after `best`


def _search(ops, model, init_state, max_steps, deadline, track=False):
    """WGL search over the ops of one key. With track=True it also remembers
    the longest linearization it found (for explanations; costs time)."""
    n = len(ops)
    events = []
    for i, op in enumerate(ops):
        events.append((op.invoke, 0, i))
        events.append((INF if op.complete is None else op.complete, 1, i))
    # At equal times calls sort before returns: such ops count as concurrent,
    # which never rejects a history that a finer clock could accept.
    events.sort()
    m = len(events)
    head, tail = 0, m + 1
    nxt = list(range(1, m + 2)) + [tail]
    prv = [0] + list(range(0, m + 1))
    node_op = [-1] * (m + 2)
    is_call = [False] * (m + 2)
    match = [0] * (m + 2)
    call_node = [0] * n
    for pos, (_, kind, i) in enumerate(events, 1):
        node_op[pos] = i
        if kind == 0:
            is_call[pos] = True
            call_node[i] = pos
        else:
            match[call_node[i]] = pos
    completed = [op.complete is not None for op in ops]
    bit = [1 << i for i in range(n)]
    remaining = sum(completed)
    if remaining == 0:
        return _Outcome(True, 0, [], init_state, [])

    step = model.step
    state = init_state
    lin = 0
    stack = []
    cache = set()
    best, best_state, stuck = [], init_state, None
    e = nxt[head]
    steps = 0
    while True:
        steps += 1
        if steps > max_steps or (deadline is not None and (steps & 0x3FF) == 0
                                 and time.monotonic() > deadline):
            return _Outcome(None, steps, best, best_state, stuck)
        if is_call[e]:
            i = node_op[e]
            ok, new_state = step(state, ops[i])
            if ok:
                new_lin = lin | bit[i]
                key = (new_lin, new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((e, state))
                    state, lin = new_state, new_lin
                    r = match[e]  # lift the call and its return out of the list
                    p, q = prv[e], nxt[e]
                    nxt[p], prv[q] = q, p
                    p, q = prv[r], nxt[r]
                    nxt[p], prv[q] = q, p
                    if completed[i]:
                        remaining -= 1
                        if remaining == 0:
                            # Only indeterminate ops are left: they may all
                            # take effect at the end or never.
                            if track:
                                best = [node_op[x] for x, _ in stack]
                                best_state, stuck = state, []
                            return _Outcome(True, steps, best, best_state, stuck)
                    if track and len(stack) > len(best):
                        best = [node_op[x] for x, _ in stack]
                        best_state = state
                        stuck = None
                    e = nxt[head]
                    continue
            e = nxt[e]
        else:
            # A completed op must be linearized before its return: backtrack.
            if track and stuck is None and len(stack) == len(best):
                stuck = []
                x = nxt[head]
                while is_call[x]:
                    stuck.append(node_op[x])
                    x = nxt[x]
            if not stack:
                return _Outcome(False, steps, best, best_state, stuck)
            e, state = stack.pop()
            i = node_op[e]
            lin ^= bit[i]
            if completed[i]:
                remaining += 1
            r = match[e]  # put the return back, then the call
            nxt[prv[r]] = r
            prv[nxt[r]] = r
            nxt[prv[e]] = e
            prv[nxt[e]] = e
            e = nxt[e]


def _prefix(ops, cut_time_index, events):
    """The history as seen just after events[cut_time_index]: ops not yet
    invoked are left out, ops not yet returned become indeterminate."""
    invoked = set()
    returned = set()
    for _, kind, i in events[:cut_time_index + 1]:
        (invoked if kind == 0 else returned).add(i)
    out = []
    for i, op in enumerate(ops):
        if i not in invoked:
            continue
        if i in returned:
            out.append(op)
        else:
            out.append(Op(op.id, op.client, op.kind, op.key, op.args, None, op.invoke, None,
                          op.raw_args, None))
    return out


class KeyFailure:
    """Why one key's history is not linearizable."""

    def __init__(self, key, ops, witness, prefix_ops, best, best_state, stuck, model):
        self.key = key
        self.ops = ops  # all ops of the key
        self.witness = witness  # the op whose completion makes the history fail
        self.prefix_ops = prefix_ops  # ops of the smallest failing prefix
        self.best = best  # longest linearization of that prefix (Op list)
        self.best_state = best_state
        self.stuck = stuck  # ops that could not come next (Op list)
        self.model = model

    def _line(self, op):
        t = "?" if op.complete is None else op.complete
        return f"op {op.id} client {op.client} [{op.invoke}, {t}]: {self.model.describe_op(op)}"

    def explain(self, max_lines=12):
        lines = [f"key {self.key!r}: {len(self.ops)} ops; the smallest failing prefix "
                 f"({len(self.prefix_ops)} ops) ends when this op completes:",
                 "  " + self._line(self.witness)]
        if self.best is not None:
            lines.append(f"  longest linearization of that prefix: {len(self.best)} ops, "
                         f"ending in state {self.model.describe_state(self.best_state)}")
            shown = self.best[-max_lines:]
            if len(shown) < len(self.best):
                lines.append(f"    ... {len(self.best) - len(shown)} earlier ops")
            for op in shown:
                lines.append("    " + self._line(op))
        if self.stuck:
            lines.append("  and then no op can come next:")
            for op in self.stuck[:max_lines]:
                ok, _ = self.model.step(self.best_state, op)
                why = ("accepted here, but nothing can follow it" if ok else
                       f"the model would answer {self.model.expected(self.best_state, op)}")
                lines.append(f"    {self._line(op)}   [{why}]")
        return "\n".join(lines)


class CheckResult:
    """status: True (linearizable), False (not), None (unknown: a bound was
    reached on some key and no key failed)."""

    def __init__(self, status, num_ops, num_keys, failures, unknown_keys, steps):
        self.status = status
        self.num_ops = num_ops
        self.num_keys = num_keys
        self.failures = failures  # list of KeyFailure
        self.unknown_keys = unknown_keys
        self.steps = steps

    @property
    def linearizable(self):
        return self.status

    def __bool__(self):
        return self.status is True

    def summary(self):
        if self.status is True:
            return f"linearizable: {self.num_ops} ops, {self.num_keys} keys"
        if self.status is False:
            keys = ", ".join(repr(f.key) for f in self.failures)
            return (f"NOT linearizable: {len(self.failures)} of {self.num_keys} keys ({keys})\n"
                    + "\n".join(f.explain() for f in self.failures))
        keys = ", ".join(repr(k) for k in self.unknown_keys)
        return (f"unknown: the search bound was reached on {len(self.unknown_keys)} of "
                f"{self.num_keys} keys ({keys}); {self.num_ops} ops")


def _explain_failure(key, ops, model, init_state, max_steps, deadline):
    """Binary search for the smallest prefix (cut just after a return) that is
    not linearizable, then run the tracking search on it."""
    events = []
    for i, op in enumerate(ops):
        events.append((op.invoke, 0, i))
        events.append((INF if op.complete is None else op.complete, 1, i))
    events.sort()
    cuts = [p for p, (_, kind, i) in enumerate(events) if kind == 1 and ops[i].complete is not None]
    lo, hi = 0, len(cuts) - 1  # cuts[hi] (the whole history) fails
    while lo < hi:
        mid = (lo + hi) // 2
        if deadline is not None and time.monotonic() > deadline:
            break
        out = _search(_prefix(ops, cuts[mid], events), model, init_state, max_steps, deadline)
        if out.status is False:
            hi = mid
        else:
            lo = mid + 1
    cut = cuts[hi]
    prefix = _prefix(ops, cut, events)
    out = _search(prefix, model, init_state, max_steps, deadline, track=True)
    witness = ops[events[cut][2]]
    best = [prefix[i] for i in out.best] if out.status is False else None
    stuck = [prefix[i] for i in (out.stuck or [])] if out.status is False else None
    return KeyFailure(key, ops, witness, prefix, best, out.best_state, stuck, model)


def check(history, model=None, max_steps=2_000_000, timeout=None, initial=None,
          explain=True):
    """Checks a history (op dicts or Op objects). max_steps bounds the search
    on each key, timeout (seconds) the whole check. initial maps a key to its
    model state before the history (default model.init()).
    Returns a CheckResult."""
    model = model or ZnodeModel()
    ops = make_ops(history, model)
    deadline = None if timeout is None else time.monotonic() + timeout
    by_key = {}
    for op in ops:
        if op.complete is None and model.read_only(op):
            continue  # an unanswered read constrains nothing
        by_key.setdefault(op.key, []).append(op)
    keys = {op.key for op in ops}
    failures, unknown, steps = [], [], 0
    for key, kops in by_key.items():
        init_state = model.init() if initial is None or key not in initial else initial[key]
        out = _search(kops, model, init_state, max_steps, deadline)
        steps += out.steps
        if out.status is None:
            unknown.append(key)
        elif out.status is False:
            if explain:
                failures.append(_explain_failure(key, kops, model, init_state, max_steps,
                                                 deadline))
            else:
                failures.append(KeyFailure(key, kops, kops[-1], kops, None, None, None, model))
    status = False if failures else (None if unknown else True)
    return CheckResult(status, len(ops), len(keys), failures, unknown, steps)


# --------------------------------------------------------------------------
# Recording


class Recorder:
    """Records a history from many threads.

        h = rec.invoke(client, "set", "/a", {"value": "x", "version": -1})
        ... send the request, wait for the answer ...
        rec.complete(h, {"version": 3})        # or "NONODE", ...
        rec.fail(h)                            # no answer: may or may not have happened
        rec.fail(h, indeterminate=False)       # surely did not happen: dropped

    The invoke time is taken before the call, the complete time after the
    answer (time.monotonic_ns), so an op's interval covers its effect. Ops
    neither completed nor failed when the history is read are indeterminate."""

    def __init__(self, clock=time.monotonic_ns):
        self._clock = clock
        self._lock = threading.Lock()
        self._ops = []

    def invoke(self, client, kind, key, args=None):
        t = self._clock()
        with self._lock:
            handle = len(self._ops)
            self._ops.append({"id": handle, "client": client, "kind": kind, "key": key,
                              "args": _jsonable(args if args is not None else {}),
                              "invoke": t, "complete": None, "result": None})
        return handle

    def _finish(self, handle, **fields):
        with self._lock:
            op = self._ops[handle]
            if op.get("done"):
                raise ValueError(f"op {handle} already finished")
            op.update(fields, done=True)

    def complete(self, handle, result):
        self._finish(handle, complete=self._clock(), result=_jsonable(result))

    def fail(self, handle, indeterminate=True):
        if indeterminate:
            self._finish(handle, complete=None, result=None)
        else:
            self._finish(handle, complete=None, result=None, failed=True)

    def history(self):
        """The ops so far (copies), without the ones that surely failed."""
        with self._lock:
            return [{k: v for k, v in op.items() if k != "done"} for op in self._ops
                    if not op.get("failed")]

    def dump(self, path):
        dump_history(self.history(), path)


def classify_error(exc):
    """Maps a client exception (by class name, e.g. kazoo's NoNodeError) to a
    result code, or None when the outcome is unknown (connection loss,
    session expiry, timeouts: record it with Recorder.fail)."""
    name = _norm_code(type(exc).__name__)
    return name if name in ERROR_CODES else None


# --------------------------------------------------------------------------
# Command line


def main(argv=None):
    p = argparse.ArgumentParser(description="Check a JSON-lines history of znode "
                                "operations for linearizability.")
    p.add_argument("history", help="JSON-lines file, one operation per line")
    p.add_argument("--max-steps", type=int, default=2_000_000,
                   help="search steps per key before giving up (default 2000000)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds for the whole check before giving up (default 300)")
    args = p.parse_args(argv)
    try:
        history = load_history(args.history)
        result = check(history, max_steps=args.max_steps, timeout=args.timeout)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result.summary())
    return {True: 0, False: 1, None: 2}[result.status]


if __name__ == "__main__":
    sys.exit(main())
