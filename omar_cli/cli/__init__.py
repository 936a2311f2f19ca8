"""The Typer/Rich shell: parse, prompt, render. Nothing outside this package imports it."""
