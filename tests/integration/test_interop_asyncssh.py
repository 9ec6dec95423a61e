"""Interop: python3-asyncssh's SFTP client as a person, answering the
keyboard-interactive rounds (password, verification code) from a callback."""
import asyncio
import os
import unittest

import asyncssh

import interop
from interop import harness


class Client(asyncssh.SSHClient):
    def __init__(self, dialogue):
        self.dialogue = dialogue

    def kbdint_auth_requested(self):
        return ""  # no submethods

    def kbdint_challenge_received(self, name, instructions, lang, prompts):
        return self.dialogue.handler(name, instructions, prompts)


class AsyncSshInterop(interop.InteropCase):
    async def upload(self, user, remote_dir):
        self.inst.next_step()
        d = harness.Dialogue(user)
        async with asyncssh.connect(
                "127.0.0.1", self.inst.port, username=user.login, known_hosts=None,
                client_factory=lambda: Client(d), password_auth=False,
                kbdint_auth=True, client_keys=None, agent_path=None) as conn:
            async with conn.start_sftp_client() as sftp:
                await sftp.mkdir(remote_dir)
                for name in interop.FILES:
                    await sftp.put(os.path.join(self.src, name), remote_dir + "/" + name)
                return sorted(await sftp.listdir(remote_dir))

    def test_person_uploads_the_set(self):
        user = self.inst.add_ready_user(interop.RELATION, "a.async")
        names = asyncio.run(self.upload(user, "async"))
        self.assertEqual([n for n in names if n not in (".", "..")], sorted(interop.FILES))
        self.assert_ingested("async/")


if __name__ == "__main__":
    unittest.main(verbosity=2)
