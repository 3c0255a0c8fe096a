from synthvet.harness.cli import main

main()
