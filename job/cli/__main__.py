from job.cli.commands import main

main()
