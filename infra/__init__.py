"""The AWS CDK app that deploys Mitroo (entry point ``infra/main.py``, never ``app.py``)."""
