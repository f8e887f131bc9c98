/**
 * The AWS SDK warns on every run that releases after January 2027 need Node 22. Gantry pins an SDK
 * that supports Node 20 (package-lock.json), so that warning is noise in a CLI; others still print.
 */
const [printWarning] = process.listeners("warning");
if (printWarning) {
  process.removeListener("warning", printWarning);
  process.on("warning", (warning) => {
    const fromSdk =
      warning.name === "NodeVersionSupportWarning" || warning.message.startsWith("NodeVersionSupportWarning");
    if (!fromSdk) printWarning(warning);
  });
}
