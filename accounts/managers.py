from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import transaction


class UserManager(DjangoUserManager):
    """Users are identified by email; there is no username."""

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("The email address must be set.")
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.password = make_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        """An administrator who can sign in to the admin at once: the address
        is recorded as verified and primary (sign-in requires a verified
        address). ``createsuperuser`` and ``make superuser`` come here; whoever
        runs them has the server's shell and vouches for the address typed."""
        from allauth.account.models import EmailAddress

        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        with transaction.atomic(using=self._db):
            user = self._create_user(email, password, **extra_fields)
            EmailAddress.objects.using(self._db).create(
                user=user, email=user.email.lower(), primary=True, verified=True
            )
        return user
