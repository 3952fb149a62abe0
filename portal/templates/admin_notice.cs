<?cs # admin_notice.cs - an admin page that only explains (refusals,
     errors, outcomes). ?><?cs if:Admin.Login ?><nav class="admin-nav" aria-label="Admin"><a href="/admin/messages">Messages</a> <a href="/admin/recipients">Recipients</a> <a href="/admin/audit.csv">Audit export (CSV)</a>
<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><span class="who"><?cs var:Admin.Login ?> (<?cs var:Admin.Role ?>)</span> <button type="submit">Log out</button></form></nav>
<?cs /if ?><div class="admin notice">
<h1><?cs var:Page.Title ?></h1>
<p><?cs var:Page.Text ?></p>
<?cs if:Page.Reference ?><p>Reference: <?cs var:Page.Reference ?></p><?cs /if ?>
<p><a href="/admin/messages">Back to the messages</a></p>
</div>
