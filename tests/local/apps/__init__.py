"""Small CDK apps and handler code the local cloud's tests deploy."""
