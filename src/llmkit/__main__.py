from llmkit.cli.main import main

main()
