"""Development and test tooling (emulator, local server); never packaged into Lambda."""
