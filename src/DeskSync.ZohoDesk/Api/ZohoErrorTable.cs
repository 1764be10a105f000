using System.Net;

namespace DeskSync.ZohoDesk.Api;

public enum ZohoAction
{
    /// <summary>Fail the call: the user must change something.</summary>
    Fail,

    /// <summary>Retry with exponential backoff and jitter, honouring Retry-After.</summary>
    Retry,

    /// <summary>Retry only when Retry-After is short enough to wait for; else fail.</summary>
    RetryIfShortWait,

    /// <summary>Refresh the access token once and retry.</summary>
    RenewTokenAndRetry,
}

public sealed record ZohoOutcome(ZohoFailureKind Kind, ZohoAction Action, string Advice);

/// <summary>
/// The status→action table for Desk API answers (Airbyte's pattern; codes from
/// shared/docs/zoho-desk-api.md §2). One place to change when Zoho is found to behave otherwise.
/// </summary>
public static class ZohoErrorTable
{
    public static ZohoOutcome Classify(HttpStatusCode status, string? errorCode)
    {
        switch (errorCode)
        {
            case "INVALID_OAUTH":
                return new(ZohoFailureKind.AuthExpired, ZohoAction.RenewTokenAndRetry,
                    "Zoho refused the access token even after a refresh. Run `desksync auth` with a new grant code.");
            case "SCOPE_MISMATCH":
                return new(ZohoFailureKind.Configuration, ZohoAction.Fail,
                    "The token lacks a scope this call needs. Generate a new grant code with the scopes `desksync auth --help` lists.");
            case "OAUTH_ORG_MISMATCH":
                return new(ZohoFailureKind.Configuration, ZohoAction.Fail,
                    "The org ID is not the portal this token was made for. Check the org ID (Setup → Developer Space → API), or make a grant code for that portal.");
            case "UNAUTHORIZED":
                return new(ZohoFailureKind.Configuration, ZohoAction.Fail,
                    "Zoho says the call is not authenticated. Run `desksync auth` again.");
            case "LICENSE_ACCESS_LIMITED":
            case "FORBIDDEN":
                return new(ZohoFailureKind.Forbidden, ZohoAction.Fail,
                    "The portal's edition or the user's permissions do not allow this; the table is skipped.");
            case "TOO_MANY_REQUESTS":
                return new(ZohoFailureKind.RateLimited, ZohoAction.Retry,
                    "Too many concurrent calls; lower the concurrency for this edition.");
            case "THRESHOLD_EXCEEDED":
                return new(ZohoFailureKind.CreditsExhausted, ZohoAction.RetryIfShortWait,
                    "The portal's daily API credits are used up; DeskSync can continue after Zoho's daily reset.");
            case "URL_NOT_FOUND":
                return new(ZohoFailureKind.NotFound, ZohoAction.Fail, "Zoho does not know this URL or record.");
            case "UNPROCESSABLE_ENTITY":
            case "INVALID_DATA":
                return new(ZohoFailureKind.Configuration, ZohoAction.Fail,
                    "Zoho refused a parameter of the call. This is a DeskSync bug or a change in Zoho's API: please report it with this message.");
            case "INTERNAL_SERVER_ERROR":
                return new(ZohoFailureKind.Transient, ZohoAction.Retry, "Zoho had an internal error.");
        }

        return (int)status switch
        {
            401 => new(ZohoFailureKind.AuthExpired, ZohoAction.RenewTokenAndRetry, "Zoho refused the access token. Run `desksync auth` again."),
            403 => new(ZohoFailureKind.Forbidden, ZohoAction.Fail, "Zoho forbids this call for this portal or user."),
            404 => new(ZohoFailureKind.NotFound, ZohoAction.Fail, "Zoho does not know this URL or record."),
            408 => new(ZohoFailureKind.Transient, ZohoAction.Retry, "The call timed out."),
            429 => new(ZohoFailureKind.RateLimited, ZohoAction.Retry, "Zoho is rate-limiting DeskSync."),
            >= 500 => new(ZohoFailureKind.Transient, ZohoAction.Retry, "Zoho had a server error."),
            _ => new(ZohoFailureKind.Configuration, ZohoAction.Fail, "Zoho refused the call."),
        };
    }
}
