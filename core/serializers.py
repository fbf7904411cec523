"""Serializers more than one app's API uses."""

from rest_framework import serializers


class ImportProblemSerializer(serializers.Serializer):
    """A photo of a zip import that was refused, and why (core.photo_imports)."""

    file = serializers.CharField()
    error = serializers.CharField()
