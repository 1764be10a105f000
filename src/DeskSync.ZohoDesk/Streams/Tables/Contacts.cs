using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Contacts (Contact.json, searchContacts) — not Contracts.</summary>
    public static readonly DeskStream Contacts = new("contacts", "Contacts", "contacts", 100, "contacts", F(
        ("id", T), ("firstName", T), ("lastName", T), ("email", T), ("secondaryEmail", T), ("phone", T), ("mobile", T),
        ("type", T), ("title", T), ("description", T), ("accountId", T), ("ownerId", T), ("isEndUser", B), ("street", T),
        ("city", T), ("state", T), ("zip", T), ("country", T), ("photoURL", T), ("webUrl", T), ("layoutId", T),
        ("createdTime", Ts), ("modifiedTime", Ts), ("customerHappiness", J)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Contact"),
        Scopes = ["Desk.contacts.READ"],
    };
}
