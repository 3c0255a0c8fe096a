from synthvet._entry import main

main()
