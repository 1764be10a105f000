using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Contracts (Contract.json): the list is thin and there is no search, so each is read by id.</summary>
    public static readonly DeskStream Contracts = new("contracts", "Contracts", "contracts", 100, "contracts", F(
        ("id", T), ("contractName", T), ("contractNumber", T), ("contractStatus", T), ("startDate", Dt), ("endDate", Dt),
        ("accountId", T), ("productId", T), ("departmentId", T), ("ownerId", T), ("associatedSLAId", T), ("description", T),
        ("layoutId", T), ("createdTime", Ts), ("modifiedTime", Ts)))
    {
        Read = new ListThenDetailRead(),
        Scopes = ["Desk.settings.ALL"],
    };
}
