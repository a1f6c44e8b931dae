// Registers iBOK's service worker (portal/installable.py): the offline page when the network is gone.
if ("serviceWorker" in navigator) {
    window.addEventListener("load", () => {
        navigator.serviceWorker.register("/sw.js").catch(() => {});
    });
}
