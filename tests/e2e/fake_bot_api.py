"""A fake Telegram Bot API server on 127.0.0.1, for end-to-end tests and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (``base_url``): updates pushed
here are served by getUpdates (long polling), and every call the bot makes is recorded (method,
parameters, uploaded files) for assertions. Faults can be injected for the next N calls of a
method: 429 with retry_after, a 5xx, a slow answer (the client times out), malformed JSON.

Standard library only (a threading HTTP server), so it runs beside any event loop and bench/
can import it with the repository root on sys.path::

    from tests.e2e.fake_bot_api import FakeBotApi

    with FakeBotApi() as api:
        settings = Settings(telegram_token=api.token, telegram_base_url=api.url, ...)
        ...
        api.push_message("/count parties as of 2024-06-30", user_id=111)
        [call] = api.wait_for("sendMessage")
        assert "112" in call.text
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl

DEFAULT_TOKEN = "123456789:TEST-fake-token-0123456789abcdefABCDEF"
BOT_ID = 123456789

FaultKind = Literal["status", "retry_after", "timeout", "malformed"]


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded (multipart)."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class ApiCall:
    """One request the bot made, and what the fake answered."""

    method: str
    params: dict[str, str]
    files: dict[str, Upload]
    at: float
    status: int = 200
    #: The "result" the fake returned (a Message for sends), None for a faulted call.
    result: Any = None

    def json(self, name: str) -> Any:
        """A parameter PTB sent JSON-encoded (reply_markup, commands …), decoded."""
        value = self.params.get(name)
        return None if value is None else json.loads(value)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.result is not None

    @property
    def text(self) -> str:
        """The text of a message, or the caption of a file."""
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return None if value is None else int(value)

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (label, callback_data) pairs."""
        markup = self.json("reply_markup") or {}
        return [
            [(b.get("text", ""), b.get("callback_data", "")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    def button(self, label_part: str) -> str:
        """The callback data of the first button whose label contains `label_part`."""
        for row in self.buttons:
            for label, data in row:
                if label_part in label:
                    return data
        raise KeyError(f"no button with {label_part!r} in {self.buttons}")


@dataclass
class _Fault:
    method: str | None
    kind: FaultKind
    remaining: int
    status: int = 500
    retry_after: int = 1
    delay: float = 0.0


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str | None = None
    first_name: str = "Test"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        data["language_code"] = "en"
        return data


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhook: str = ""


class FakeBotApi:
    """The fake server. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "tracker_test_bot",
        max_hold: float = 0.5,
    ) -> None:
        self.token = token
        self.me = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Treaty tracker",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        #: Longest a getUpdates waits for an update (short, so the bot stops quickly).
        self.max_hold = max_hold
        self._state = _State()
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-bot-api")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server root, as TRACKER_TELEGRAM_BASE_URL takes it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's form: the token is appended to it."""
        return f"{self.url}/bot"

    # --- updates in ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (its update_id is assigned here) for the bot's next getUpdates."""
        update = {"update_id": next(self._ids), **update}
        with self._cond:
            self._state.updates.append(update)
            self._cond.notify_all()
        return update

    def push_message(
        self,
        text: str,
        user_id: int = 111,
        username: str | None = "alice",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A user sends `text` (a /command gets its bot_command entity, as Telegram does)."""
        user = FakeUser(user_id, username)
        chat = chat_id if chat_id is not None else user_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat, user),
            "from": user.to_dict(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push({"message": message})

    def push_callback(
        self,
        data: str,
        message: ApiCall | dict[str, Any],
        user_id: int = 111,
        username: str | None = "alice",
    ) -> dict[str, Any]:
        """A user presses the button with `data` under `message` (a bot message)."""
        bot_message = message.result if isinstance(message, ApiCall) else message
        user = FakeUser(user_id, username)
        query = {
            "id": str(next(self._ids)),
            "from": user.to_dict(),
            "chat_instance": "fake-chat-instance",
            "data": data,
            "message": bot_message,
        }
        return self.push({"callback_query": query})

    # --- calls out ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        with self._cond:
            return list(self._state.calls)

    def calls_to(self, *methods: str, ok_only: bool = True) -> list[ApiCall]:
        return [c for c in self.calls if c.method in methods and (c.ok or not ok_only)]

    def sends(self) -> list[ApiCall]:
        """Everything the bot said to users (successful sends, edits and callback answers)."""
        return self.calls_to(
            "sendMessage", "sendDocument", "sendPhoto", "editMessageText", "answerCallbackQuery"
        )

    @property
    def my_commands(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._state.commands)

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[ApiCall], bool] | None = None,
        ok_only: bool = True,
    ) -> list[ApiCall]:
        """Block until `count` calls of `method` (matching `where`) were made; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c
                    for c in self._state.calls
                    if c.method == method and (c.ok or not ok_only) and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.status) for c in self._state.calls]
                    raise TimeoutError(
                        f"{len(found)} of {count} {method} calls after {timeout} s; calls: {seen}"
                    )
                self._cond.wait(remaining)

    def clear(self) -> None:
        """Forget the calls recorded so far (not the queued updates)."""
        with self._cond:
            self._state.calls.clear()

    # --- faults -----------------------------------------------------------------------------------

    def fail_next(self, method: str | None = None, *, status: int = 502, count: int = 1) -> None:
        """The next `count` calls of `method` (any method: None) answer HTTP `status`."""
        self._add_fault(_Fault(method, "status", count, status=status))

    def rate_limit_next(
        self, method: str | None = None, *, retry_after: int = 1, count: int = 1
    ) -> None:
        """The next `count` calls answer 429 Too Many Requests with `retry_after` seconds."""
        self._add_fault(_Fault(method, "retry_after", count, status=429, retry_after=retry_after))

    def time_out_next(self, method: str | None = None, *, delay: float, count: int = 1) -> None:
        """The next `count` calls are answered only after `delay` seconds."""
        self._add_fault(_Fault(method, "timeout", count, delay=delay))

    def malformed_next(self, method: str | None = None, *, count: int = 1) -> None:
        """The next `count` calls answer 200 with a body that is not JSON."""
        self._add_fault(_Fault(method, "malformed", count))

    def _add_fault(self, fault: _Fault) -> None:
        with self._cond:
            self._state.faults.append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._cond:
            for fault in self._state.faults:
                if fault.method in (None, method) and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._state.faults.remove(fault)
                    return fault
        return None

    # --- serving ----------------------------------------------------------------------------------

    def _record(self, call: ApiCall) -> None:
        with self._cond:
            self._state.calls.append(call)
            self._cond.notify_all()

    def handle(
        self, token: str, method: str, params: dict[str, str], files: dict[str, Upload]
    ) -> tuple[int, bytes]:
        """Answer one Bot API request: (HTTP status, body)."""
        call = ApiCall(method, params, files, time.monotonic())
        if token != self.token:
            call.status = 401
            self._record(call)
            return 401, _error(401, "Unauthorized")
        fault = self._take_fault(method)
        if fault is not None and fault.kind != "timeout":
            call.status = 200 if fault.kind == "malformed" else fault.status
            self._record(call)
            if fault.kind == "malformed":
                return 200, b"<html>502 Bad Gateway</html>"
            if fault.kind == "retry_after":
                return 429, _error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            return fault.status, _error(fault.status, "Bad Gateway")
        if fault is not None:
            time.sleep(fault.delay)
        if method == "getUpdates":
            result: Any = self._get_updates(params)
        else:
            answer = self._answer(method, params, files)
            if answer is None:
                call.status = 404
                self._record(call)
                return 404, _error(404, "Not Found: method not found")
            result = answer
        call.result = result
        self._record(call)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", "0") or 0)
        limit = int(params.get("limit", "100") or 100)
        hold = min(float(params.get("timeout", "0") or 0), self.max_hold)
        deadline = time.monotonic() + hold
        with self._cond:
            # Telegram forgets updates below the offset: the bot confirmed them.
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            self._cond.notify_all()
            while not self._state.updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self._state.updates[:limit])

    def _answer(self, method: str, params: dict[str, str], files: dict[str, Upload]) -> Any:
        if method == "getMe":
            return self.me
        if method in ("deleteWebhook", "close", "logOut", "sendChatAction"):
            return True
        if method == "setWebhook":
            with self._cond:
                self._state.webhook = params.get("url", "")
            return True
        if method == "getWebhookInfo":
            return {
                "url": self._state.webhook,
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        if method == "setMyCommands":
            with self._cond:
                self._state.commands = json.loads(params.get("commands", "[]"))
            return True
        if method == "getMyCommands":
            return self.my_commands
        if method == "answerCallbackQuery":
            return True
        if method == "sendMessage":
            return self._message(params, text=params.get("text", ""))
        if method == "sendDocument":
            upload = files.get("document")
            document = {
                "file_id": f"doc-{next(self._ids)}",
                "file_unique_id": f"udoc-{next(self._ids)}",
                "file_name": upload.filename if upload else "",
                "file_size": len(upload.content) if upload else 0,
            }
            return self._message(params, document=document, caption=params.get("caption", ""))
        if method == "sendPhoto":
            upload = files.get("photo")
            photo = {
                "file_id": f"photo-{next(self._ids)}",
                "file_unique_id": f"uphoto-{next(self._ids)}",
                "width": 800,
                "height": 500,
                "file_size": len(upload.content) if upload else 0,
            }
            return self._message(params, photo=[photo], caption=params.get("caption", ""))
        if method == "editMessageText":
            if "inline_message_id" in params:
                return True
            return self._message(
                params,
                text=params.get("text", ""),
                message_id=int(params.get("message_id", "0")),
                edit_date=int(time.time()),
            )
        if method == "editMessageReplyMarkup":
            return self._message(params, message_id=int(params.get("message_id", "0")))
        return None

    def _message(self, params: dict[str, str], **fields: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", "0"))
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self.me,
        }
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        message.update({k: v for k, v in fields.items() if v is not None})
        return message


def _chat(chat_id: int, user: FakeUser) -> dict[str, Any]:
    if chat_id > 0:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user.first_name}
        if user.username:
            chat["username"] = user.username
        return chat
    return {"id": chat_id, "type": "group", "title": "Coordinators"}


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields and uploaded files of a Bot API request (urlencoded, multipart or JSON)."""
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        params: dict[str, str] = {}
        files: dict[str, Upload] = {}
        assert isinstance(message, EmailMessage)
        for part in message.iter_parts():
            assert isinstance(part, EmailMessage)
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(content, bytes):
                continue
            filename = part.get_filename()
            if filename is not None:
                files[name] = Upload(filename, content, part.get_content_type())
            else:
                params[name] = content.decode("utf-8")
        return params, files
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx uses it

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            parts = path.strip("/").split("/")
            if len(parts) != 2 or not parts[0].startswith("bot"):
                self._send(404, _error(404, "Not Found"))
                return
            token, method = parts[0][3:], parts[1]
            params, files = _parse_body(self.headers.get("Content-Type", ""), body)
            if "?" in self.path:
                params.update(parse_qsl(self.path.split("?", 1)[1]))
            status, payload = api.handle(token, method, params, files)
            self._send(status, payload)

        def _send(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout fault): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the calls are recorded; stderr stays quiet

    return Handler


def iter_buttons(call: ApiCall) -> Iterator[tuple[str, str]]:
    """Every (label, callback_data) under a message, row by row."""
    for row in call.buttons:
        yield from row
