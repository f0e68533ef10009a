"""The client: one class, one method per call, typed answers, one exception type for every error."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

Json = Dict[str, Any]

# Error codes for routes outside /v1, whose body is {"error": "..."}: named after the status, as the document's
# components/responses do. /v1 errors carry OpenAI's own code (or type) instead.
_CODES = {
    400: "bad_request", 401: "unauthorized", 402: "quota_exhausted", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "too_many_requests", 499: "client_gone", 500: "internal_error", 502: "worker_failure",
    503: "unavailable", 504: "deadline_exceeded",
}

# A stream's error event has no status of its own (the answer's was 200): the one its code stands for.
_STREAM_STATUS = {"timeout": 504, "internal_error": 500, "rate_limit_exceeded": 429, "insufficient_quota": 429,
                  "invalid_request_error": 400, "server_error": 502}


class InferiumError(Exception):
    """Any error answer (or a stream's error event): the HTTP status, a code and the server's message.

    ``param`` names the request field at fault where the server says (the /v1 routes); ``retry_after`` is the
    Retry-After header in seconds (429, 503); ``error_id`` identifies an internal error in the server's log.
    """

    def __init__(self, status: int, code: str, message: str, param: Optional[str] = None,
                 retry_after: Optional[int] = None, error_id: Optional[str] = None, request_id: Optional[str] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.error_id = error_id
        self.request_id = request_id

    @classmethod
    def from_body(cls, status: int, body: bytes, headers: Mapping[str, str]) -> "InferiumError":
        retry = headers.get("Retry-After")
        retry_after = int(retry) if retry and retry.isdigit() else None
        request_id = headers.get("x-request-id")
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            e = parsed["error"]
            return cls(status, e.get("code") or e.get("type") or _CODES.get(status, "error"), str(e.get("message")),
                       e.get("param"), retry_after, e.get("error_id"), request_id)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            return cls(status, _CODES.get(status, "error"), parsed["error"], None, retry_after, parsed.get("error_id"),
                       request_id)
        text = body.decode("utf-8", "replace")[:500]
        return cls(status, _CODES.get(status, "error"), text or f"HTTP {status}", None, retry_after, None, request_id)


@dataclass
class Tensor:
    """A KServe v2 tensor: ``data`` flat in row-major order (nested lists are accepted on the way in)."""
    name: str
    datatype: str
    shape: List[int]
    data: List[Any] = field(default_factory=list)
    parameters: Optional[Json] = None

    def to_json(self) -> Json:
        out: Json = {"name": self.name, "datatype": self.datatype, "shape": list(self.shape), "data": self.data}
        if self.parameters:
            out["parameters"] = self.parameters
        return out

    @classmethod
    def from_json(cls, o: Json) -> "Tensor":
        return cls(o["name"], o["datatype"], list(o["shape"]), list(o.get("data", [])), o.get("parameters"))


@dataclass
class InferResponse:
    """``POST /v2/models/{name}/infer``'s answer, with the headers that say what it was and what it cost."""
    model_name: str
    model_version: Optional[str]
    outputs: List[Tensor]
    id: Optional[str] = None
    parameters: Optional[Json] = None
    request_id: Optional[str] = None
    charge_micro_usd: Optional[int] = None
    billed: Optional[bool] = None

    def output(self, name: str) -> Tensor:
        for t in self.outputs:
            if t.name == name:
                return t
        raise KeyError(f"no output '{name}' (outputs: {[t.name for t in self.outputs]})")


@dataclass
class FunctionInfo:
    """One function version as ``/api/functions`` lists it; ``raw`` holds every field the server sent."""
    name: str
    version: int
    kind: str
    state: str
    raw: Json

    @classmethod
    def from_json(cls, o: Json) -> "FunctionInfo":
        return cls(o["name"], int(o["version"]), o.get("kind", "tensor"), o["state"], o)


@dataclass
class Usage:
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int = 0

    @classmethod
    def from_json(cls, o: Optional[Json]) -> Optional["Usage"]:
        if not o:
            return None
        return cls(o["prompt_tokens"], o["total_tokens"], o.get("completion_tokens", 0))


@dataclass
class Completion:
    """A text completion, or (from a stream) one chunk of one."""
    id: str
    model: str
    created: int
    texts: List[str]
    finish_reasons: List[Optional[str]]
    usage: Optional[Usage]
    raw: Json

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    @classmethod
    def from_json(cls, o: Json) -> "Completion":
        choices = sorted(o.get("choices", []), key=lambda c: c["index"])
        return cls(o["id"], o["model"], o["created"], [c.get("text", "") for c in choices],
                   [c.get("finish_reason") for c in choices], Usage.from_json(o.get("usage")), o)


@dataclass
class ChatCompletion:
    """A chat completion, or (from a stream) one chunk: ``contents`` are the message contents (or deltas)."""
    id: str
    model: str
    created: int
    contents: List[str]
    finish_reasons: List[Optional[str]]
    usage: Optional[Usage]
    raw: Json

    @property
    def content(self) -> str:
        return self.contents[0] if self.contents else ""

    @classmethod
    def from_json(cls, o: Json) -> "ChatCompletion":
        choices = sorted(o.get("choices", []), key=lambda c: c["index"])
        contents = [(c.get("message") or c.get("delta") or {}).get("content") or "" for c in choices]
        return cls(o["id"], o["model"], o["created"], contents, [c.get("finish_reason") for c in choices],
                   Usage.from_json(o.get("usage")), o)


@dataclass
class Embedding:
    index: int
    embedding: Union[List[float], str]


@dataclass
class EmbeddingList:
    model: str
    data: List[Embedding]
    usage: Optional[Usage]
    request_id: Optional[str] = None


class InferiumClient:
    """Calls one Inferium gateway with one API key.

    >>> client = InferiumClient("http://127.0.0.1:8080", api_key="...")
    >>> client.infer("adder", [Tensor("a", "FP32", [1, 4], [1, 2, 3, 4]), Tensor("b", "FP32", [1, 4], [1, 1, 1, 1])])
    """

    def __init__(self, base_url: str, api_key: Optional[str] = None, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # -- transport --------------------------------------------------------------------------------------------

    def _open(self, method: str, path: str, body: Optional[Json] = None, query: Optional[Mapping[str, Any]] = None,
              accept: str = "application/json"):
        url = self.base_url + path
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", accept)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.api_key:
            req.add_header("Authorization", "Bearer " + self.api_key)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            with e:
                raise InferiumError.from_body(e.code, e.read(), e.headers) from None

    def _json(self, method: str, path: str, body: Optional[Json] = None,
              query: Optional[Mapping[str, Any]] = None) -> "tuple[Json, Mapping[str, str]]":
        with self._open(method, path, body, query) as resp:
            return json.loads(resp.read().decode("utf-8")), resp.headers

    def _events(self, path: str, body: Json) -> Iterator[Json]:
        """The JSON payloads of a Server-Sent Events answer, until ``data: [DONE]``; an error event raises."""
        with self._open("POST", path, body, accept="text/event-stream") as resp:
            request_id = resp.headers.get("x-request-id")
            data: List[str] = []
            for raw in resp:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                    continue
                if line or not data:
                    continue  # comments (": ..."), other fields, or blank lines between events
                payload = "\n".join(data)
                data = []
                if payload == "[DONE]":
                    return
                event = json.loads(payload)
                if isinstance(event, dict) and "error" in event:
                    # The answer's status was 200 when the stream began: the status the error would have had instead.
                    e = event["error"] if isinstance(event["error"], dict) else {}
                    status = _STREAM_STATUS.get(e.get("code") or e.get("type"), 502)
                    raise InferiumError.from_body(status, payload.encode("utf-8"), {"x-request-id": request_id or ""})
                yield event
            raise InferiumError(502, "stream_cut", "the stream ended without data: [DONE]", request_id=request_id)

    @staticmethod
    def _seg(value: str) -> str:
        return urllib.parse.quote(str(value), safe="")

    # -- the platform ---------------------------------------------------------------------------------------------

    def list_functions(self, q: Optional[str] = None, kind: Optional[str] = None,
                       category: Optional[str] = None) -> List[FunctionInfo]:
        """``GET /api/functions``: the function versions this key may see."""
        body, _ = self._json("GET", "/api/functions", query={"q": q, "kind": kind, "category": category})
        return [FunctionInfo.from_json(o) for o in body["functions"]]

    def get_function(self, name: str) -> FunctionInfo:
        """``GET /api/functions/{name}``: the latest version; ``raw["versions"]`` lists them all."""
        body, _ = self._json("GET", "/api/functions/" + self._seg(name))
        return FunctionInfo.from_json(body)

    def usage(self, start: Optional[str] = None, end: Optional[str] = None, group_by: Optional[str] = None,
              tenant: Optional[str] = None) -> Json:
        """``GET /api/usage``: requests and charges (integer micro-dollars), by function or by day."""
        body, _ = self._json("GET", "/api/usage", query={"from": start, "to": end, "group_by": group_by, "tenant": tenant})
        return body

    def receipt(self, request_id: str) -> Json:
        """``GET /api/receipts/{request_id}``: the signed receipt of an answered request (a moment after the answer)."""
        body, _ = self._json("GET", "/api/receipts/" + self._seg(request_id))
        return body

    # -- KServe v2 ------------------------------------------------------------------------------------------------

    def server_metadata(self) -> Json:
        """``GET /v2``: name, version and protocol extensions."""
        return self._json("GET", "/v2")[0]

    def model_metadata(self, name: str, version: Optional[int] = None) -> Json:
        """``GET /v2/models/{name}[/versions/{version}]``: the model's input and output tensors."""
        path = "/v2/models/" + self._seg(name) + ("" if version is None else f"/versions/{int(version)}")
        return self._json("GET", path)[0]

    def infer(self, model: str, inputs: Sequence[Tensor], outputs: Optional[Sequence[str]] = None,
              version: Optional[int] = None, id: Optional[str] = None,
              parameters: Optional[Json] = None) -> InferResponse:
        """``POST /v2/models/{model}[/versions/{version}]/infer`` with JSON tensors."""
        body: Json = {"inputs": [t.to_json() for t in inputs]}
        if outputs:
            body["outputs"] = [{"name": n} for n in outputs]
        if id is not None:
            body["id"] = id
        if parameters:
            body["parameters"] = parameters
        path = "/v2/models/" + self._seg(model) + ("" if version is None else f"/versions/{int(version)}") + "/infer"
        o, headers = self._json("POST", path, body)
        charge = headers.get("X-Inferium-Charge-Micro-Usd")
        billed = headers.get("X-Inferium-Billed")
        return InferResponse(o["model_name"], o.get("model_version"), [Tensor.from_json(t) for t in o["outputs"]],
                             o.get("id"), o.get("parameters"), headers.get("X-Inferium-Request-Id"),
                             int(charge) if charge is not None else None,
                             None if billed is None else billed == "true")

    # -- OpenAI-compatible ----------------------------------------------------------------------------------------

    def completions(self, model: str, prompt: str, **params: Any) -> Completion:
        """``POST /v1/completions``; ``params`` are OpenAI's (max_tokens, temperature, seed, stop, n, ...)."""
        return Completion.from_json(self._json("POST", "/v1/completions", dict(params, model=model, prompt=prompt))[0])

    def stream_completions(self, model: str, prompt: str, include_usage: bool = False,
                           **params: Any) -> Iterator[Completion]:
        """``POST /v1/completions`` with ``stream: true``: one chunk per token, as they come."""
        body = dict(params, model=model, prompt=prompt, stream=True)
        if include_usage:
            body["stream_options"] = {"include_usage": True}
        return (Completion.from_json(e) for e in self._events("/v1/completions", body))

    def chat(self, model: str, messages: Sequence[Mapping[str, Any]], **params: Any) -> ChatCompletion:
        """``POST /v1/chat/completions``: ``messages`` are ``{"role", "content"}``."""
        body = dict(params, model=model, messages=list(messages))
        return ChatCompletion.from_json(self._json("POST", "/v1/chat/completions", body)[0])

    def stream_chat(self, model: str, messages: Sequence[Mapping[str, Any]], include_usage: bool = False,
                    **params: Any) -> Iterator[ChatCompletion]:
        """``POST /v1/chat/completions`` with ``stream: true``: the first chunk carries the role, then deltas."""
        body = dict(params, model=model, messages=list(messages), stream=True)
        if include_usage:
            body["stream_options"] = {"include_usage": True}
        return (ChatCompletion.from_json(e) for e in self._events("/v1/chat/completions", body))

    def embeddings(self, model: str, input: Union[str, Sequence[str]], encoding_format: Optional[str] = None) -> EmbeddingList:
        """``POST /v1/embeddings``: one vector per input string."""
        body: Json = {"model": model, "input": input if isinstance(input, str) else list(input)}
        if encoding_format:
            body["encoding_format"] = encoding_format
        o, headers = self._json("POST", "/v1/embeddings", body)
        return EmbeddingList(o["model"], [Embedding(d["index"], d["embedding"]) for d in o["data"]],
                             Usage.from_json(o.get("usage")), headers.get("X-Inferium-Request-Id"))
