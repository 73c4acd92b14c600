package reply

// SkipPaused is the skip reason of a comment on a paused account (Account.Paused).
const SkipPaused = "paused"
