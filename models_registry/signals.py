from django.dispatch import Signal

# Sent (with ``version``) just before a user's own model version is deleted, so
# apps that refer to it can remove what it produced first.
owned_version_deleting = Signal()
