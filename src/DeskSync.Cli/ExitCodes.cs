namespace DeskSync.Cli;

/// <summary>Process exit codes, documented in docs/cli.md.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A bug or an error nobody foresaw.</summary>
    public const int Unexpected = 1;

    /// <summary>Wrong or missing settings: the user must change something.</summary>
    public const int Configuration = 2;

    /// <summary>OAuth refused: a new grant code or the right client secret is needed.</summary>
    public const int Authentication = 3;

    /// <summary>A passing failure (network, Zoho 5xx, rate limiting): running again later can succeed.</summary>
    public const int Transient = 4;

    /// <summary>The portal's API credits (or DeskSync's reserve of them) are used up for today.</summary>
    public const int CreditsExhausted = 5;

    /// <summary>The target (database or folder) refused: unreachable, full, read-only, or holding another mode's tables.</summary>
    public const int Target = 6;

    /// <summary>Another desksync process is writing this data source (its journal, state or target); nothing was changed.</summary>
    public const int Busy = 7;

    /// <summary>Stopped by Ctrl+C (or SIGTERM): what was committed is kept, and the same command continues from there.</summary>
    public const int Interrupted = 130;

    /// <summary>The journal is damaged, or does not match the target's checkpoint: `desksync journal rebaseline` recovers.</summary>
    public const int Journal = 8;
}
