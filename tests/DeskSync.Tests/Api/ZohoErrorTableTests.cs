using System.Net;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.Tests.Api;

[Trait(Lanes.Key, Lanes.Fast)]
public sealed class ZohoErrorTableTests
{
    [Theory]
    [InlineData(401, "INVALID_OAUTH", ZohoFailureKind.AuthExpired, ZohoAction.RenewTokenAndRetry)]
    [InlineData(401, "SCOPE_MISMATCH", ZohoFailureKind.Configuration, ZohoAction.Fail)]
    [InlineData(403, "SCOPE_MISMATCH", ZohoFailureKind.Configuration, ZohoAction.Fail)]
    [InlineData(403, "OAUTH_ORG_MISMATCH", ZohoFailureKind.Configuration, ZohoAction.Fail)]
    [InlineData(403, "LICENSE_ACCESS_LIMITED", ZohoFailureKind.Forbidden, ZohoAction.Fail)]
    [InlineData(403, "FORBIDDEN", ZohoFailureKind.Forbidden, ZohoAction.Fail)]
    [InlineData(404, "URL_NOT_FOUND", ZohoFailureKind.NotFound, ZohoAction.Fail)]
    [InlineData(422, "UNPROCESSABLE_ENTITY", ZohoFailureKind.Configuration, ZohoAction.Fail)]
    [InlineData(429, "TOO_MANY_REQUESTS", ZohoFailureKind.RateLimited, ZohoAction.Retry)]
    [InlineData(429, "THRESHOLD_EXCEEDED", ZohoFailureKind.CreditsExhausted, ZohoAction.RetryIfShortWait)]
    [InlineData(500, "INTERNAL_SERVER_ERROR", ZohoFailureKind.Transient, ZohoAction.Retry)]
    [InlineData(502, null, ZohoFailureKind.Transient, ZohoAction.Retry)]
    [InlineData(503, null, ZohoFailureKind.Transient, ZohoAction.Retry)]
    [InlineData(400, null, ZohoFailureKind.Configuration, ZohoAction.Fail)]
    public void Each_Zoho_outcome_maps_to_one_kind_and_action(int status, string? code, ZohoFailureKind kind, ZohoAction action)
    {
        var outcome = ZohoErrorTable.Classify((HttpStatusCode)status, code);

        Assert.Equal(kind, outcome.Kind);
        Assert.Equal(action, outcome.Action);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Advice));
    }
}
