// Loaded before every test file (bunfig.toml). Tests are quiet unless asked: LOG_LEVEL=debug bun test.
process.env.LOG_LEVEL ??= "silent";
process.env.NODE_ENV ??= "test";
