"""Password policy (NIST SP 800-63B style): long enough, not a common one,
no composition rules and no forced rotation."""
from __future__ import annotations

MIN_LENGTH = 12
MAX_LENGTH = 1024

# The most common passwords of 12+ characters in public breach lists, and
# obvious local variants. Compared case-insensitively.
COMMON_PASSWORDS = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456123456",
    "qwertyuiopas", "qwertyuiop123", "qwerty123456", "1q2w3e4r5t6y", "1qaz2wsx3edc",
    "password1234", "password123!", "passwordpassword", "password12345",
    "iloveyou1234", "abcdefghijkl", "abc123abc123", "aaaaaaaaaaaa",
    "letmein12345", "welcome12345", "welcome123!", "administrator", "administrator1",
    "changeme1234", "sommar2024!!", "sommar123456", "vinter123456", "hosten123456",
    "varen1234567", "losenord1234", "lösenord1234", "lösenordlösenord", "tillit123456",
    "whistleblower", "visselblasare", "visselblåsare", "hemligt12345",
})


class PasswordPolicyError(ValueError):
    def __init__(self, reason: str):
        self.reason = reason  # "too_short", "too_long" or "common"
        super().__init__(reason)


def check_password(password: str, *, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError("too_long")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2 or (username and username.lower() in lowered):
        raise PasswordPolicyError("common")
