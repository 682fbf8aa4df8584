"""What reviewers read: call views (CLI JSON), HTML evaluation and agent pages, exports."""
