using System.Net;

namespace DeskSync.ZohoDesk.Api;

/// <summary>What kind of failure a Desk API answer is, which decides what happens next.</summary>
public enum ZohoFailureKind
{
    /// <summary>Wrong settings (org ID, scopes, credentials, a parameter): retrying cannot help; the user must act.</summary>
    Configuration,

    /// <summary>A passing fault (5xx, dropped connection, timeout): retried with backoff.</summary>
    Transient,

    /// <summary>Too many concurrent calls (429 TOO_MANY_REQUESTS): retried with backoff.</summary>
    RateLimited,

    /// <summary>The portal's daily API credits are used up (429 THRESHOLD_EXCEEDED), or DeskSync's reserve would be touched.</summary>
    CreditsExhausted,

    /// <summary>The access token was refused (INVALID_OAUTH) even after a refresh.</summary>
    AuthExpired,

    /// <summary>The portal's edition or the user's permissions forbid this (LICENSE_ACCESS_LIMITED, FORBIDDEN): skip the table.</summary>
    Forbidden,

    /// <summary>The URL or record does not exist.</summary>
    NotFound,

    /// <summary>A listing reached Zoho's deepest offset: partition it (e.g. by createdTime windows).</summary>
    OffsetLimit,
}

/// <summary>A Desk API call that did not succeed, with Zoho's error code and what to do. Never carries a token.</summary>
public sealed class ZohoApiException(
    ZohoFailureKind kind,
    string message,
    HttpStatusCode? status = null,
    string? errorCode = null,
    TimeSpan? retryAfter = null,
    Exception? inner = null) : Exception(message, inner)
{
    public ZohoFailureKind Kind { get; } = kind;

    public HttpStatusCode? Status { get; } = status;

    public string? ErrorCode { get; } = errorCode;

    /// <summary>From the Retry-After header, when Zoho sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsTransient => Kind is ZohoFailureKind.Transient or ZohoFailureKind.RateLimited;
}
