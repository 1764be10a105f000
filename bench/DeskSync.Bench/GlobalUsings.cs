// What every bench file uses.
global using System.Collections.Concurrent;
global using System.Diagnostics;
global using System.Globalization;
global using System.Text;
global using System.Text.Json.Nodes;
global using DeskSync.Core;
global using DeskSync.Emulator;
global using DeskSync.Sinks.Postgres;
global using DeskSync.Sinks.Sqlite;
global using DeskSync.ZohoDesk.Api;
global using DeskSync.ZohoDesk.Auth;
global using DeskSync.ZohoDesk.Regions;
global using DeskSync.ZohoDesk.Snapshot;
global using DeskSync.ZohoDesk.Streams;
global using DeskSync.ZohoDesk.Sync;
global using DeskSync.ZohoDesk.Webhooks;
