"""Running a Dataverse ``$batch``: change sets in one transaction, ``$n`` Content-ID references,
``Prefer: odata.continue-on-error``. The multipart format itself is ``dataverse_batch``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from .dataverse_batch import (
    BatchFormatError,
    BatchRequestPart,
    BatchResponseItem,
    BatchResponsePart,
    ChangeSet,
    ChangeSetResponse,
    parse_batch_request,
    render_batch_response,
)
from .dataverse_errors import E_BAD_REQUEST, bad_request, parse_prefer
from .http import ApiError, ApiRequest, ApiResponse
from .store import EntityStore

#: The most requests one ``$batch`` may hold.
MAX_BATCH_REQUESTS = 1000

_CONTENT_ID_RE = re.compile(r"^\$(?P<id>[A-Za-z0-9_.\-]+)(?P<rest>/.*)?$")


class _ChangeSetFailed(Exception):
    """Raised inside a change set's transaction to roll it back."""

    def __init__(self, response: BatchResponsePart) -> None:
        super().__init__(response.status)
        self.response = response


class BatchRunner:
    """``POST $batch``: each part goes through ``dispatch`` as if it were its own request."""

    def __init__(self, store: EntityStore, dispatch: Callable[[ApiRequest], ApiResponse]) -> None:
        self.store = store
        self.dispatch = dispatch

    def run(self, request: ApiRequest) -> ApiResponse:
        """Answer a whole batch: a multipart response with one part per request or change set."""
        try:
            items = parse_batch_request(request.body, request.headers.get("content-type", ""))
        except BatchFormatError as exc:
            raise bad_request(str(exc)) from exc
        total = sum(len(item.requests) if isinstance(item, ChangeSet) else 1 for item in items)
        if total > MAX_BATCH_REQUESTS:
            raise bad_request(f"The batch holds {total} requests; a batch may hold at most {MAX_BATCH_REQUESTS}.")
        for item in items:
            if isinstance(item, ChangeSet) and any(part.method == "GET" for part in item.requests):
                raise bad_request("A change set may not contain a GET request; put GET requests outside change sets.")
        continue_on_error = "odata.continue-on-error" in parse_prefer(request.headers.get("prefer", ""))
        answers: list[BatchResponseItem] = []
        for item in items:
            if isinstance(item, ChangeSet):
                answer, failed = self._run_change_set(item, request)
            else:
                answer = self._run_part(item, request, {})
                failed = answer.status >= 400
            answers.append(answer)
            if failed and not continue_on_error:
                break  # the rest is neither executed nor answered
        content_type, body = render_batch_response(answers)
        headers = {"content-type": content_type}
        if continue_on_error:
            headers["preference-applied"] = "odata.continue-on-error"
        return ApiResponse(200, body, headers)

    def _run_change_set(self, change_set: ChangeSet, outer: ApiRequest) -> tuple[BatchResponseItem, bool]:
        """Run a change set in one transaction; a failure rolls all of it back.

        Returns the change set's answer and whether it failed; a failed change set is
        answered by the failing request's response alone.
        """
        references: dict[str, str] = {}
        answers: list[BatchResponsePart] = []
        try:
            with self.store.atomic():
                for part in change_set.requests:
                    answer = self._run_part(part, outer, references)
                    if answer.status >= 400:
                        raise _ChangeSetFailed(answer)
                    answers.append(answer)
                    entity_id = answer.headers.get("odata-entityid")
                    if entity_id and part.content_id:
                        references[part.content_id] = entity_id
        except _ChangeSetFailed as failure:
            return failure.response, True
        return ChangeSetResponse(answers), False

    def _run_part(self, part: BatchRequestPart, outer: ApiRequest, references: Mapping[str, str]) -> BatchResponsePart:
        """Execute one request of a batch; ``$n`` refers to a change set's earlier results."""
        try:
            inner = _inner_request(part, outer, references)
            if unquote(inner.path).strip("/") == "$batch":
                raise bad_request("A batch may not contain another batch.")
            response = self.dispatch(inner)
        except ApiError as exc:
            response = exc.to_response()
            response.headers.setdefault("odata-version", "4.0")
        headers = dict(response.headers)
        if part.method == "POST" and "odata-entityid" in headers:
            headers.setdefault("location", headers["odata-entityid"])
        return BatchResponsePart(response.status, headers, response.body, part.content_id)


def _inner_request(part: BatchRequestPart, outer: ApiRequest, references: Mapping[str, str]) -> ApiRequest:
    url = part.url
    ref = _CONTENT_ID_RE.match(url)
    if ref is not None:
        if ref.group("id") not in references:
            raise bad_request(
                f"The Content-ID reference '${ref.group('id')}' names no earlier request of this change set."
            )
        url = references[ref.group("id")] + (ref.group("rest") or "")
    split = urlsplit(url)
    base_path = urlsplit(outer.base_url).path or "/"
    path = split.path
    if path.startswith(base_path):
        path = path[len(base_path) :]
    elif path.startswith("/") or split.scheme:
        raise ApiError(404, E_BAD_REQUEST, f"The batch request URL '{part.url}' is not under {outer.base_url}.")
    body = part.body
    if references and body.strip():
        body = _replace_references(body, references)
    return ApiRequest(
        method=part.method,
        path=path,
        query=dict(parse_qsl(split.query, keep_blank_values=True)),
        headers=part.headers,
        body=body,
        base_url=outer.base_url,
    )


def _replace_references(body: bytes, references: Mapping[str, str]) -> bytes:
    """Replace ``"x@odata.bind": "$n"`` with the entity URL created by request ``n``."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body  # the inner request reports the bad JSON itself
    if not isinstance(payload, dict):
        return body
    changed = False
    for name, value in payload.items():
        if name.endswith("@odata.bind") and isinstance(value, str):
            ref = _CONTENT_ID_RE.match(value)
            if ref is not None and ref.group("id") in references:
                payload[name] = references[ref.group("id")] + (ref.group("rest") or "")
                changed = True
    return json.dumps(payload).encode() if changed else body
