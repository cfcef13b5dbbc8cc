"""The Cognito user pool of one region: groups are the API roles, custom attributes carry the ids
the API scopes by (chalicelib/api/auth.py reads them from the token)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from .config import RegionConfig

# chalicelib/api/route_permissions.py: the roles of the route x role matrix.
API_ROLES = ("admin", "scheduler", "clinician", "patient", "payer", "ops")
ID_ATTRIBUTES = ("tenant_id", "patient_id", "clinician_id", "payer_id")
INSURER_SCOPES = ("eligibility.read", "eligibility.write")


class Identity(Construct):
    def __init__(self, scope: Construct, cid: str, *, region: RegionConfig) -> None:
        super().__init__(scope, cid)
        self.user_pool = cognito.UserPool(
            self, "UserPool", user_pool_name=f"hco-{region.stage}",
            self_sign_up_enabled=False,  # health systems invite their staff and patients
            sign_in_aliases=cognito.SignInAliases(email=True), sign_in_case_sensitive=False,
            mfa=cognito.Mfa.REQUIRED, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=14, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=Duration.days(3)),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            # Ids are set by an administrator at invitation, never by the user.
            custom_attributes={name: cognito.StringAttribute(min_len=1, max_len=64, mutable=False)
                               for name in ID_ATTRIBUTES},
            deletion_protection=True, removal_policy=RemovalPolicy.RETAIN)
        for role in API_ROLES:
            cognito.CfnUserPoolGroup(self, f"Group{role.title()}", user_pool_id=self.user_pool.user_pool_id,
                                     group_name=role, description=f"API role {role}")

        readable = cognito.ClientAttributes().with_standard_attributes(email=True, email_verified=True) \
            .with_custom_attributes(*ID_ATTRIBUTES)
        self.staff_client = self._client("Staff", readable, refresh=Duration.hours(12))
        self.patient_client = self._client("Patients", readable, refresh=Duration.days(30))

        # Payer systems: machine to machine, OAuth client credentials with the insurer scopes only.
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"hco-{region.stage}"))
        server = self.user_pool.add_resource_server(
            "Api", identifier="hco-api",
            scopes=[cognito.ResourceServerScope(scope_name=s, scope_description=s) for s in INSURER_SCOPES])
        self.insurer_client = self.user_pool.add_client(
            "Insurers", user_pool_client_name="insurers", generate_secret=True,
            auth_flows=cognito.AuthFlow(),  # no user sign-in at all
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[cognito.OAuthScope.resource_server(server, cognito.ResourceServerScope(
                    scope_name=s, scope_description=s)) for s in INSURER_SCOPES]),
            access_token_validity=Duration.hours(1), prevent_user_existence_errors=True)

    def _client(self, name: str, readable: cognito.ClientAttributes,
                refresh: Duration) -> cognito.UserPoolClient:
        return self.user_pool.add_client(
            name, user_pool_client_name=name.lower(), generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True), disable_o_auth=True,
            id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
            refresh_token_validity=refresh, prevent_user_existence_errors=True, enable_token_revocation=True,
            read_attributes=readable, write_attributes=cognito.ClientAttributes())
