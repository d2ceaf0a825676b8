"""examples/mention_bot.py, run as a user would: a `hubbub serve` process, a bot made with
`hubbub create-bot`, the example in a process of its own. A person invites it, mentions it,
and gets a streamed answer; after a restart of the server, and one of the bot, each mention
is answered once, the one made while the bot was down included."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import Account, create_room, signup
from tests.realtime.client import Client, multiplexed
from tests.servers import ROOT, ServerProcess

BOT = ROOT / "examples" / "mention_bot.py"
STREAMING = " …"  # what a streamed answer ends with until it is complete
Frame = dict[str, Any]


class BotProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(BOT)], env=self.env, stdout=output, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        """SIGTERM: the bot finishes the frame it is handling, then exits 0."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            assert self.process.wait(10) == 0

    async def wait_for_log(self, text: str, timeout: float = 20) -> None:
        """Until the bot's output says `text` (what someone running it watches)."""
        async with asyncio.timeout(timeout):
            while True:  # another process writes it: polled
                if text in self.output():
                    return
                await asyncio.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        """A crash: whatever it was doing, and whether its state was saved or not."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "example-bot-" + "k" * 40,
        "DATA_DIR": str(tmp_path / "var"),
        "PASSWORD_MEMORY_KIB": "64",
        "PASSWORD_TIME_COST": "1",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_GRACE_SECONDS": "1",
    }


@pytest.fixture
def server(server_env: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(server_env, log=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


def create_bot(env: dict[str, str], name: str) -> str:
    """`hubbub create-bot NAME`, as the README shows it: the token is its only output."""
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "create-bot", name],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


async def answer_to(client: Client, question_seq: int, bot_id: int, timeout: float = 20) -> list[Frame]:
    """The bot's answer to one question as it streams: its message frame, then its edits, up
    to the complete one. Any other message or edit from the bot on the way fails the test:
    that would be something answered twice, or answered unasked."""
    frames: list[Frame] = []
    answer_seq = None
    async with asyncio.timeout(timeout):
        while True:
            frame = await client.recv(timeout)
            if frame["type"] not in ("message", "edit") or frame["message"]["author"]["id"] != bot_id:
                continue
            message = frame["message"]
            if frame["type"] == "message":
                assert answer_seq is None and message["reply_to"] == question_seq, frame
                answer_seq = message["seq"]
            else:
                assert message["seq"] == answer_seq, frame
            frames.append(frame)
            if not message["body"].endswith(STREAMING):
                return frames


async def ask(client: Client, room_id: int, body: str) -> int:
    await client.send({"type": "message", "room_id": room_id, "body": body})
    while True:
        frame = await client.recv()
        if frame["type"] == "message" and frame["message"]["body"] == body:
            seq: int = frame["message"]["seq"]
            return seq


async def bot_is_present(client: Client, presence: Frame, bot_id: int) -> None:
    if bot_id not in {user["id"] for user in presence["users"]}:
        while (await client.recv_type("join", timeout=20))["user"]["id"] != bot_id:
            pass


def read_state(path: Path) -> bytes:
    return path.read_bytes()


def write_state(path: Path, state: bytes) -> None:
    path.write_bytes(state)


def check_streamed(frames: list[Frame], question: str) -> None:
    first, *edits = frames
    assert first["type"] == "message" and first["message"]["body"].endswith(STREAMING)
    assert len(edits) >= 2, frames
    bodies = [frame["message"]["body"] for frame in frames]
    assert all(earlier.removesuffix(STREAMING) in later for earlier, later in itertools.pairwise(bodies))
    assert f"“{question}”" in bodies[-1]


async def test_the_example_bot_answers_each_mention_once(
    server: ServerProcess, server_env: dict[str, str], tmp_path: Path
) -> None:
    token = create_bot(server_env, "helper")
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        ada = await signup(http, "ada")
        room_id = (await create_room(http, ada, "support", private=True))["id"]
        bot_id = (await http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).json()["id"]
    state = tmp_path / "bot-state.json"
    bot_env = {
        "HUBBUB_URL": server.http_url,
        "HUBBUB_TOKEN": token,
        "BOT_STATE": str(state),
        "BOT_STREAM_PAUSE": "0.05",
    }
    bot = BotProcess(bot_env, tmp_path / "bot.log")
    bot.start()
    try:
        await bot.wait_for_log("subscribed to 0 rooms")
        last_rev = await first_conversation(server, ada, room_id, bot_id)
        assert "added to room support" in bot.output()
        server.stop()  # the bot's connection closes (1012); it keeps trying
        server.start()
        await after_restarts(server, ada, room_id, bot_id, bot, state, last_rev)
    finally:
        bot.stop()
    assert str(room_id) in read_state(state).decode()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        page = await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)
    messages = page.json()["messages"]
    questions = [m["seq"] for m in messages if m["author"]["id"] == ada.id]
    answers = [m for m in messages if m["author"]["id"] == bot_id]
    assert [m["reply_to"] for m in answers] == questions and len(questions) == 4
    assert all(m["edited_at"] is not None and not m["body"].endswith(STREAMING) for m in answers)


async def first_conversation(server: ServerProcess, ada: Account, room_id: int, bot_id: int) -> int:
    """Invite the bot (it hears `room_added` and subscribes), ask it, watch the answer stream."""
    async with multiplexed(server, ada) as person:  # type: ignore[arg-type]
        _, presence = await person.subscribe(room_id)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
            invited = await http.post(
                f"/api/rooms/{room_id}/members", json={"username": "helper"}, headers=ada.headers
            )
            assert invited.status_code == 201
        await bot_is_present(person, presence, bot_id)
        question = await ask(person, room_id, "@helper how do revs work?")
        frames = await answer_to(person, question, bot_id)
        check_streamed(frames, "how do revs work?")
        last_rev: int = frames[-1]["rev"]
        return last_rev


async def after_restarts(
    server: ServerProcess,
    ada: Account,
    room_id: int,
    bot_id: int,
    bot: BotProcess,
    state: Path,
    last_rev: int,
) -> None:
    async with multiplexed(server, ada) as person:  # type: ignore[arg-type]
        history, presence = await person.subscribe(room_id, since_rev=last_rev)
        assert history["messages"] == []
        await bot_is_present(person, presence, bot_id)
        # Back with since_rev: the new question is answered, the old one not again.
        before_answer = read_state(state)
        question = await ask(person, room_id, "@helper and after a restart?")
        check_streamed(await answer_to(person, question, bot_id), "and after a restart?")
        # The bot crashes after answering and before saving that it did (its state file as it
        # was before the question), and comes back: the question asked meanwhile is answered,
        # once, and the one it answered is not answered again.
        bot.kill()
        write_state(state, before_answer)
        question = await ask(person, room_id, "are you there, @Helper?")
        bot.start()
        check_streamed(await answer_to(person, question, bot_id), "are you there,")
        # It did ask again, with the question's nonce, and got the answer it had sent (200).
        assert any("POST" in line and "200 OK" in line for line in bot.output().splitlines())
        # And once more after a clean stop.
        bot.stop()
        question = await ask(person, room_id, "@helper still?")
        bot.start()
        check_streamed(await answer_to(person, question, bot_id), "still?")
        await person.expect_silence(0.5)
