"""`llmkit ui`: one Gradio app with a tab per capability, over the same services and events as the CLI.

Needs the `ui` extra (pip install 'llmkit[ui]'); nothing here imports gradio until the app is built."""

from llmkit.ui.app import TabSpec, UiContext, build_app, launch, register_tab, tab_names

__all__ = ["TabSpec", "UiContext", "build_app", "launch", "register_tab", "tab_names"]
