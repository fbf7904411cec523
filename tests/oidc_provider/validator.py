from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Adds the standard email and name claims to ID tokens and userinfo."""

    oidc_claim_scope = OAuth2Validator.oidc_claim_scope

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": f"{user.first_name} {user.last_name}".strip(),
            "given_name": user.first_name,
            "family_name": user.last_name,
        }
