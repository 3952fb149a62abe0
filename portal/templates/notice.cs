<?cs # notice.cs - a page that only explains: unknown, expired, retracted or
     purged links, a lock, an error. Page.Kind names which. ?><div class="notice notice-<?cs var:Page.Kind ?>">
<h1><?cs var:Page.Title ?></h1>
<p><?cs var:Page.Text ?></p>
<?cs if:Page.LockedUntil ?><p><?cs var:Text.Pickup.Locked ?> <strong><?cs var:Page.LockedUntil ?></strong></p>
<?cs /if ?></div>
