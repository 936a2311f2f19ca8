"""Language-model adapters: the OpenAI chat, vision and transcription client."""
