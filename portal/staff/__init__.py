"""Staff: accounts with their key pairs, sign-in with password and TOTP,
enrolment of the second factor, and content-free notifications."""
