namespace DeskSync.ZohoDesk.Auth;

public enum AuthFailure
{
    /// <summary>The grant code expired or was used already: generate a new one.</summary>
    GrantCodeInvalid,

    /// <summary>The client ID is unknown in this data centre.</summary>
    ClientUnknown,

    /// <summary>The client secret does not match the client ID.</summary>
    ClientSecretWrong,

    /// <summary>The refresh token is revoked or invalid: connect again with a new grant code.</summary>
    RefreshTokenInvalid,

    /// <summary>Zoho throttles token requests (10 access tokens per refresh token in 10 minutes).</summary>
    Throttled,

    /// <summary>No refresh token stored yet.</summary>
    NotConnected,

    /// <summary>An answer Zoho Accounts is not known to give.</summary>
    Unexpected,

    /// <summary>The file the tokens are kept in cannot be read as such (damaged, or not DeskSync's).</summary>
    SecretsFileUnreadable,
}

/// <summary>An OAuth failure with a message that says what to do. Never carries a secret.</summary>
public sealed class ZohoAuthException(AuthFailure failure, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public AuthFailure Failure { get; } = failure;

    /// <summary>True when waiting and trying again can succeed without the user doing anything.</summary>
    public bool IsTransient => Failure is AuthFailure.Throttled or AuthFailure.Unexpected;
}
