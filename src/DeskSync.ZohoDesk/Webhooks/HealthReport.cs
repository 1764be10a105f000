namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// What /healthz answers: "ok"; "degraded" (HTTP 200: the receiver journals, something is being
/// retried — the target, Zoho, the load or the catch-up); "failing" (HTTP 503: the applier has
/// ended, or events wait and none was applied for the stall time). Each reason says which.
/// </summary>
public sealed record HealthReport(string Status, bool Streaming, string? Target, IReadOnlyList<string> Reasons)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int HttpStatus => Status == "failing" ? 503 : 200;
}
