import sys

from job.deployment.stack import main

sys.exit(main())
