using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Accounts (Account.json, searchAccounts).</summary>
    public static readonly DeskStream Accounts = new("accounts", "Accounts", "accounts", 100, "accounts", F(
        ("id", T), ("accountName", T), ("code", T), ("email", T), ("phone", T), ("fax", T), ("website", T), ("industry", T),
        ("annualrevenue", D), ("description", T), ("street", T), ("city", T), ("state", T), ("country", T), ("ownerId", T),
        ("createdTime", Ts), ("modifiedTime", Ts), ("webUrl", T), ("layoutId", T)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Account"),
        Scopes = ["Desk.contacts.READ"],
    };
}
